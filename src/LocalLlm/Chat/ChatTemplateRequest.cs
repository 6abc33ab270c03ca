using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LocalLlm;

/// <summary>
/// What a chat template renders: the conversation and, as llama-server takes them, the tools, the tool choice, a JSON
/// schema for the reply, the thinking switch and extra template variables. Serialised for the chat shim.
/// </summary>
internal sealed record ChatTemplateRequest
{
    public required IReadOnlyList<LlamaChatMessage> Messages { get; init; }

    public IReadOnlyList<LlamaChatTool> Tools { get; init; } = [];

    public LlamaToolChoice ToolChoice { get; init; } = LlamaToolChoice.Auto;

    public bool ParallelToolCalls { get; init; }

    /// <summary>The JSON schema the reply must match, or null.</summary>
    public JsonElement? JsonSchema { get; init; }

    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>The template's thinking switch (llama-server's <c>enable_thinking</c>).</summary>
    public bool EnableThinking { get; init; } = true;

    /// <summary>Extra template variables (llama-server's <c>chat_template_kwargs</c>), each a JSON value.</summary>
    public IReadOnlyDictionary<string, JsonElement> TemplateVariables { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>
    /// The time templates see as "now", in its own offset: the <c>date_string</c> and <c>datetime</c> variables (e.g. Llama
    /// 3.1's date line); null for the clock's. Templates that call <c>strftime_now</c> still see the clock: llama.cpp's
    /// engine reads it directly.
    /// </summary>
    public DateTimeOffset? Now { get; init; }

    public string ToJson(bool useJinja)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WritePropertyName("messages");
            WriteMessages(json, Messages);
            if (Tools.Count > 0)
            {
                json.WritePropertyName("tools");
                WriteTools(json, Tools);
            }

            json.WriteString("tool_choice", ToolChoice switch { LlamaToolChoice.Required => "required", LlamaToolChoice.None => "none", _ => "auto" });
            json.WriteBoolean("parallel_tool_calls", ParallelToolCalls);
            if (JsonSchema is { } schema)
            {
                json.WritePropertyName("json_schema");
                schema.WriteTo(json);
            }

            json.WriteBoolean("add_generation_prompt", AddGenerationPrompt);
            json.WriteBoolean("use_jinja", useJinja);
            json.WriteString("reasoning_format", "auto");
            json.WriteBoolean("enable_thinking", EnableThinking);
            json.WriteStartObject("chat_template_kwargs");
            if (Now is { } today)
            {
                // The pinned llama.cpp ignores its "now" input: it sets date_string and datetime from the clock, in
                // llama-server's formats ("%d %b %Y", "%b %d %Y"), and lets template variables replace them.
                WriteDateVariable(json, "date_string", today.ToString("dd MMM yyyy", CultureInfo.InvariantCulture));
                WriteDateVariable(json, "datetime", today.ToString("MMM dd yyyy", CultureInfo.InvariantCulture));
            }

            foreach ((string name, JsonElement value) in TemplateVariables)
            {
                json.WriteString(name, value.GetRawText());
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private void WriteDateVariable(Utf8JsonWriter json, string name, string date)
    {
        if (!TemplateVariables.ContainsKey(name))
        {
            // A JSON text, like every template variable; the date holds only letters, digits and spaces.
            json.WriteString(name, $"\"{date}\"");
        }
    }

    private static void WriteMessages(Utf8JsonWriter json, IReadOnlyList<LlamaChatMessage> messages)
    {
        json.WriteStartArray();
        foreach (LlamaChatMessage message in messages)
        {
            json.WriteStartObject();
            json.WriteString("role", message.Role ?? string.Empty);
            json.WriteString("content", message.Content ?? string.Empty);
            if (!string.IsNullOrEmpty(message.ReasoningContent))
            {
                json.WriteString("reasoning_content", message.ReasoningContent);
            }

            if (message.ToolCalls is { Count: > 0 } calls)
            {
                json.WriteStartArray("tool_calls");
                foreach (LlamaToolCall call in calls)
                {
                    json.WriteStartObject();
                    json.WriteString("type", "function");
                    json.WriteString("id", call.Id);
                    json.WriteStartObject("function");
                    json.WriteString("name", call.Name);
                    json.WriteString("arguments", call.Arguments);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            if (message.ToolCallId is { } callId)
            {
                json.WriteString("tool_call_id", callId);
            }

            if (message.ToolName is { } name)
            {
                json.WriteString("name", name);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteTools(Utf8JsonWriter json, IReadOnlyList<LlamaChatTool> tools)
    {
        json.WriteStartArray();
        foreach (LlamaChatTool tool in tools)
        {
            json.WriteStartObject();
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", tool.Name);
            if (tool.Description is { } description)
            {
                json.WriteString("description", description);
            }

            json.WritePropertyName("parameters");
            if (tool.ParametersSchema is { ValueKind: JsonValueKind.Object } parameters)
            {
                parameters.WriteTo(json);
            }
            else
            {
                json.WriteStartObject();
                json.WriteString("type", "object");
                json.WriteStartObject("properties");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
