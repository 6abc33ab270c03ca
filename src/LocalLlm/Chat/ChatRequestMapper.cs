using System.Globalization;
using System.Text.Json;
using LocalLlm.Native;
using Microsoft.Extensions.AI;

namespace LocalLlm;

/// <summary>
/// Maps a request's messages and <see cref="ChatOptions"/> onto what the chat template renders, with llama-server's
/// conventions: tools and tool choice, the JSON schema of the reply (also shown to the model), per-request
/// instructions as a system message, the thinking switch, a reasoning budget and extra template variables.
/// </summary>
internal static class ChatRequestMapper
{
    /// <summary>The reasoning budget an effort level implies when nothing else sets one (null: no limit).</summary>
    public static int? BudgetFor(ReasoningEffort effort) => effort switch
    {
        ReasoningEffort.Low => 512,
        ReasoningEffort.Medium => 2048,
        _ => null,
    };

    public static ChatTemplateRequest Map(
        List<LlamaChatMessage> messages,
        ChatOptions? options,
        LlamaChatTemplate template,
        LlamaChatClientOptions clientOptions,
        out int? reasoningBudget)
    {
        reasoningBudget = clientOptions.ReasoningBudget;
        var variables = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach ((string name, object? value) in clientOptions.TemplateVariables)
        {
            variables[name] = ToJson(value);
        }

        if (options?.AdditionalProperties is { } properties)
        {
            if (properties.TryGetValue("chat_template_kwargs", out object? kwargs) && kwargs is not null)
            {
                foreach ((string name, JsonElement value) in TemplateVariablesOf(kwargs))
                {
                    variables[name] = value;
                }
            }

            if (properties.TryGetValue("reasoning_budget_tokens", out object? budget) || properties.TryGetValue("thinking_budget_tokens", out budget))
            {
                reasoningBudget = BudgetOf(budget);
            }
        }

        bool enableThinking = true;
        if (variables.TryGetValue("enable_thinking", out JsonElement thinking))
        {
            enableThinking = thinking.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ArgumentException($"The template variable 'enable_thinking' must be true or false, but was {thinking.GetRawText()}.", nameof(options)),
            };
        }

        if (options?.Reasoning?.Effort is { } effort)
        {
            if (effort == ReasoningEffort.None)
            {
                enableThinking = false;
            }
            else
            {
                enableThinking = true;
                variables["reasoning_effort"] = ToJson(effort switch
                {
                    ReasoningEffort.Low => "low",
                    ReasoningEffort.Medium => "medium",
                    _ => "high",
                });
                reasoningBudget ??= BudgetFor(effort);
            }
        }

        if (options is null)
        {
            return new ChatTemplateRequest { Messages = messages, TemplateVariables = variables, EnableThinking = enableThinking, ParallelToolCalls = template.SupportsParallelToolCalls };
        }

        List<LlamaChatTool> tools = [.. (options.Tools ?? []).OfType<AIFunctionDeclaration>().Select(f => new LlamaChatTool(f.Name, f.Description, f.JsonSchema))];
        LlamaToolChoice choice = LlamaToolChoice.Auto;
        switch (options.ToolMode)
        {
            case NoneChatToolMode:
                choice = LlamaToolChoice.None;
                break;
            case RequiredChatToolMode required when tools.Count > 0:
                choice = LlamaToolChoice.Required;
                if (required.RequiredFunctionName is { } name)
                {
                    // The reply-format grammar offers exactly the tools it is given: one tool, one possible call.
                    tools = [.. tools.Where(t => t.Name == name)];
                    if (tools.Count == 0)
                    {
                        throw new ArgumentException($"ChatOptions.ToolMode requires the function '{name}', which is not among ChatOptions.Tools.", nameof(options));
                    }
                }

                break;
        }

        JsonElement? schema = null;
        if (options.ResponseFormat is ChatResponseFormatJson json)
        {
            if (options.AdditionalProperties?.ContainsKey("grammar") == true)
            {
                throw new ArgumentException("ChatOptions.ResponseFormat = Json cannot be combined with a 'grammar' of your own.", nameof(options));
            }

            schema = json.Schema ?? AnyObjectSchema();
            if (ConversionError(schema.Value) is { } error)
            {
                throw new ArgumentException($"ChatOptions.ResponseFormat's JSON schema cannot constrain generation: {error}", nameof(options));
            }
        }

        if (tools.Count > 0 && choice != LlamaToolChoice.None && options.AdditionalProperties?.ContainsKey("grammar") == true)
        {
            throw new ArgumentException("Tools cannot be combined with a 'grammar' of your own: the reply format brings its own.", nameof(options));
        }

        List<LlamaChatMessage> conversation = WithInstructions(messages, options.Instructions, options.ResponseFormat as ChatResponseFormatJson);
        return new ChatTemplateRequest
        {
            Messages = conversation,
            Tools = tools,
            ToolChoice = choice,
            ParallelToolCalls = options.AllowMultipleToolCalls ?? template.SupportsParallelToolCalls,
            JsonSchema = schema,
            EnableThinking = enableThinking,
            TemplateVariables = variables,
        };
    }

    // Instructions, and the schema a reply must match (Microsoft.Extensions.AI sends it only as a response format, and
    // a local model follows a schema it can read far better), join the system message, or open the conversation as one.
    private static List<LlamaChatMessage> WithInstructions(List<LlamaChatMessage> messages, string? instructions, ChatResponseFormatJson? format)
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(instructions))
        {
            parts.Add(instructions);
        }

        if (format?.Schema is { } schema)
        {
            string name = format.SchemaName is { Length: > 0 } n ? $" ({n}{(format.SchemaDescription is { Length: > 0 } d ? ": " + d : string.Empty)})" : string.Empty;
            parts.Add($"Respond only with a JSON value{name} that matches this JSON schema:\n{schema.GetRawText()}");
        }

        if (parts.Count == 0)
        {
            return messages;
        }

        string addition = string.Join("\n\n", parts);
        var result = new List<LlamaChatMessage>(messages.Count + 1);
        if (messages.Count > 0 && messages[0].Role == "system")
        {
            result.Add(messages[0] with { Content = messages[0].Content.Length > 0 ? messages[0].Content + "\n\n" + addition : addition });
            result.AddRange(messages.Skip(1));
        }
        else
        {
            result.Add(LlamaChatMessage.System(addition));
            result.AddRange(messages);
        }

        return result;
    }

    // A schema the grammar converter cannot handle fails before rendering, with the converter's words naming the part.
    private static string? ConversionError(JsonElement schema)
    {
        try
        {
            NativeChatLayer.JsonSchemaToGrammar(schema.GetRawText());
            return null;
        }
        catch (NativeChatLayerException ex)
        {
            return ex.Message.ReplaceLineEndings(" ");
        }
    }

    private static IEnumerable<KeyValuePair<string, JsonElement>> TemplateVariablesOf(object kwargs) => kwargs switch
    {
        JsonElement { ValueKind: JsonValueKind.Object } json => json.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.Clone())),
        IEnumerable<KeyValuePair<string, object?>> pairs => pairs.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value))),
        IEnumerable<KeyValuePair<string, string>> pairs => pairs.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value))),
        _ => throw new ArgumentException($"The 'chat_template_kwargs' property must be a JSON object or a dictionary, but was {kwargs.GetType().Name}.", nameof(kwargs)),
    };

    private static JsonElement ToJson(object? value) => value switch
    {
        JsonElement json => json.Clone(),
        null => Parse("null"),
        _ => JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
    };

    // llama-server's reading of an absent or empty schema: any JSON object.
    private static JsonElement AnyObjectSchema() => Parse("{\"type\":\"object\"}");

    private static JsonElement Parse(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static int? WholeNumber(object number)
    {
        try
        {
            decimal value = Convert.ToDecimal(number, CultureInfo.InvariantCulture);
            return value == decimal.Truncate(value) && value is >= int.MinValue and <= int.MaxValue ? (int)value : null;
        }
        catch (OverflowException)
        {
            return null; // a double beyond decimal's range, or NaN
        }
    }

    private static int? BudgetOf(object? value)
    {
        int? parsed = value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } json => json.TryGetInt32(out int i) ? i : null,
            string text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : null,
            sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal => WholeNumber(value),
            _ => null,
        };
        int budget = parsed ?? throw new ArgumentException($"The 'reasoning_budget_tokens' property must be a whole number of tokens (-1 for no limit), but was {value ?? "null"}.", nameof(value));
        return budget switch
        {
            -1 => null,
            < 0 => throw new ArgumentOutOfRangeException(nameof(value), budget, $"The 'reasoning_budget_tokens' property must be -1 (no limit) or at least 0, but was {budget}."),
            _ => budget,
        };
    }
}
