using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm.Server;

/// <summary>
/// Reads a chat completions body as OpenAI's API and llama-server define it onto Microsoft.Extensions.AI's types, which
/// <see cref="LlamaChatClient"/> maps onto the model's template and sampler chain. Every refusal names its field.
/// </summary>
internal static class ChatCompletionRequestReader
{
    /// <summary>Sampler settings llama-server takes beside OpenAI's, passed through under the same names.</summary>
    private static readonly string[] LlamaServerExtras =
        ["min_p", "typical_p", "top_n_sigma", "repeat_penalty", "repeat_last_n", "xtc_probability", "xtc_threshold", "dry_multiplier", "mirostat", "mirostat_tau", "mirostat_eta", "grammar", "chat_template_kwargs", "reasoning_budget_tokens"];

    public static ChatCompletionRequest Read(JsonElement body, string modelId)
    {
        var request = new RequestObject(body, string.Empty);
        CheckModel(request, modelId);
        List<ChatMessage> messages = ReadMessages(request, "messages");
        var options = new ChatOptions { ModelId = modelId };
        ReadSampling(request, options);
        ReadTools(request, options);
        ReadResponseFormat(request, options);
        if (request.String("reasoning_effort") is { } effort)
        {
            options.Reasoning = new ReasoningOptions
            {
                Effort = effort switch
                {
                    "none" => ReasoningEffort.None,
                    "minimal" or "low" => ReasoningEffort.Low,
                    "medium" => ReasoningEffort.Medium,
                    "high" => ReasoningEffort.High,
                    "xhigh" => ReasoningEffort.ExtraHigh,
                    _ => throw OpenAiRequestException.BadRequest("reasoning_effort", $"'reasoning_effort' must be one of none, minimal, low, medium, high, xhigh, but was '{effort}'."),
                },
            };
        }

        bool logprobs = request.Boolean("logprobs") ?? false;
        if (request.Integer("top_logprobs", 0, 20) is { } top)
        {
            if (!logprobs)
            {
                throw OpenAiRequestException.BadRequest("top_logprobs", "'top_logprobs' needs 'logprobs' set to true.");
            }

            Extra(options)["top_logprobs"] = (int)top;
        }

        if (logprobs)
        {
            Extra(options)["logprobs"] = true;
        }

        bool stream = request.Boolean("stream") ?? false;
        bool includeUsage = request.Object("stream_options")?.Boolean("include_usage") ?? false;
        return new ChatCompletionRequest
        {
            Messages = messages,
            Options = options,
            Stream = stream,
            IncludeUsage = includeUsage,
            Choices = (int)(request.Integer("n", 1, 16) ?? 1),
            LogProbabilities = logprobs,
        };
    }

    /// <summary>Refuses a model this server does not serve (absent means the served one, as llama-server has it).</summary>
    public static void CheckModel(RequestObject request, string modelId)
    {
        if (request.String("model") is { } model && !string.Equals(model, modelId, StringComparison.OrdinalIgnoreCase))
        {
            throw new OpenAiRequestException(StatusCodes.Status400BadRequest, $"The model '{model}' is not served here; this server serves '{modelId}' (GET /v1/models).", "model", code: "model_not_found");
        }
    }

    public static List<ChatMessage> ReadMessages(RequestObject request, string name)
    {
        var messages = new List<ChatMessage>();
        int index = 0;
        foreach (JsonElement element in request.Array(name, required: true))
        {
            messages.Add(ReadMessage(new RequestObject(element, $"{name}[{index}]")));
            index++;
        }

        return messages.Count > 0 ? messages : throw OpenAiRequestException.BadRequest(name, $"'{name}' must hold at least one message.");
    }

    /// <summary>Sampling and length settings shared by chat and legacy completions.</summary>
    public static void ReadSampling(RequestObject request, ChatOptions options)
    {
        options.Temperature = (float?)request.Number("temperature", 0, 100);
        options.TopP = (float?)request.Number("top_p", 0, 1);
        options.TopK = (int?)request.Integer("top_k", 0, int.MaxValue);
        options.FrequencyPenalty = (float?)request.Number("frequency_penalty", -2, 2);
        options.PresencePenalty = (float?)request.Number("presence_penalty", -2, 2);
        if (request.Integer("seed", -1, uint.MaxValue - 1) is { } seed and >= 0)
        {
            options.Seed = seed; // -1 is llama-server's "random"
        }

        long? maxTokens = request.Integer("max_completion_tokens", -1, int.MaxValue) ?? request.Integer("max_tokens", -1, int.MaxValue);
        if (maxTokens is 0)
        {
            throw OpenAiRequestException.BadRequest(request.TryGet("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens", "The maximum number of tokens must be at least 1 (or -1 for the server's default).");
        }

        options.MaxOutputTokens = maxTokens is > 0 ? (int)maxTokens : null;
        if (request.StringOrStrings("stop", 16) is { Count: > 0 } stops)
        {
            options.StopSequences = [.. stops];
        }

        if (request.TryGet("logit_bias", out JsonElement bias))
        {
            Extra(options)["logit_bias"] = bias.Clone();
        }

        foreach (string extra in LlamaServerExtras)
        {
            if (request.TryGet(extra, out JsonElement value))
            {
                Extra(options)[extra] = value.Clone();
            }
        }
    }

    private static ChatMessage ReadMessage(RequestObject message)
    {
        string role = message.String("role", required: true)!;
        var contents = new List<AIContent>();
        switch (role)
        {
            case "system" or "developer":
                contents.AddRange(ReadContent(message));
                return new ChatMessage(ChatRole.System, contents);
            case "user":
                contents.AddRange(ReadContent(message));
                return new ChatMessage(ChatRole.User, contents) { AuthorName = message.String("name") };
            case "assistant":
                if (message.String("reasoning_content") is { Length: > 0 } reasoning)
                {
                    contents.Add(new TextReasoningContent(reasoning));
                }

                contents.AddRange(ReadContent(message));
                contents.AddRange(ReadToolCalls(message));
                return new ChatMessage(ChatRole.Assistant, contents);
            case "tool":
                string callId = message.String("tool_call_id", required: true)!;
                string result = string.Concat(ReadContent(message).Select(c => c.Text));
                return new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, result)]);
            default:
                throw OpenAiRequestException.BadRequest(message.PathOf("role"), $"'{message.PathOf("role")}' must be one of system, developer, user, assistant, tool, but was '{role}'.");
        }
    }

    private static IEnumerable<TextContent> ReadContent(RequestObject message)
    {
        if (!message.TryGet("content", out JsonElement content))
        {
            yield break;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            yield return new TextContent(content.GetString());
            yield break;
        }

        int index = 0;
        foreach (JsonElement element in message.Array("content"))
        {
            var part = new RequestObject(element, $"{message.PathOf("content")}[{index}]");
            string type = part.String("type", required: true)!;
            yield return type == "text"
                ? new TextContent(part.String("text", required: true))
                : throw OpenAiRequestException.BadRequest(part.PathOf("type"), $"Content of type '{type}' is not supported: this server runs a text model ('{part.PathOf("type")}' must be 'text').");
            index++;
        }
    }

    private static IEnumerable<FunctionCallContent> ReadToolCalls(RequestObject message)
    {
        int index = 0;
        foreach (JsonElement element in message.Array("tool_calls"))
        {
            var call = new RequestObject(element, $"{message.PathOf("tool_calls")}[{index}]");
            RequestObject function = call.Object("function") ?? throw OpenAiRequestException.BadRequest(call.PathOf("function"), $"'{call.PathOf("function")}' is required.");
            string name = function.String("name", required: true)!;
            string arguments = function.String("arguments") ?? "{}";
            Dictionary<string, object?> parsed;
            try
            {
                using JsonDocument document = JsonDocument.Parse(arguments.Length == 0 ? "{}" : arguments);
                parsed = document.RootElement.ValueKind == JsonValueKind.Object
                    ? document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone(), StringComparer.Ordinal)
                    : throw OpenAiRequestException.BadRequest(function.PathOf("arguments"), $"'{function.PathOf("arguments")}' must be a JSON object in a string, but was {RequestObject.Describe(document.RootElement)}.");
            }
            catch (JsonException ex)
            {
                throw OpenAiRequestException.BadRequest(function.PathOf("arguments"), $"'{function.PathOf("arguments")}' is not valid JSON: {ex.Message}");
            }

            yield return new FunctionCallContent(call.String("id") ?? $"call_{index}", name, parsed);
            index++;
        }
    }

    private static void ReadTools(RequestObject request, ChatOptions options)
    {
        var tools = new List<AITool>();
        int index = 0;
        foreach (JsonElement element in request.Array("tools"))
        {
            var tool = new RequestObject(element, $"tools[{index}]");
            string type = tool.String("type") ?? "function";
            if (type != "function")
            {
                throw OpenAiRequestException.BadRequest(tool.PathOf("type"), $"'{tool.PathOf("type")}' must be 'function', but was '{type}'.");
            }

            RequestObject function = tool.Object("function") ?? throw OpenAiRequestException.BadRequest(tool.PathOf("function"), $"'{tool.PathOf("function")}' is required.");
            string name = function.String("name", required: true)!;
            JsonElement schema = function.Object("parameters")?.Element.Clone() ?? EmptyObjectSchema();
            tools.Add(AIFunctionFactory.CreateDeclaration(name, function.String("description"), schema));
            index++;
        }

        if (tools.Count > 0)
        {
            options.Tools = tools;
        }

        options.AllowMultipleToolCalls = request.Boolean("parallel_tool_calls");
        if (!request.TryGet("tool_choice", out JsonElement choice))
        {
            return;
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            options.ToolMode = choice.GetString() switch
            {
                "none" => ChatToolMode.None,
                "auto" => ChatToolMode.Auto,
                "required" when tools.Count > 0 => ChatToolMode.RequireAny,
                "required" => throw OpenAiRequestException.BadRequest("tool_choice", "'tool_choice' is 'required', but the request offers no 'tools'."),
                var other => throw OpenAiRequestException.BadRequest("tool_choice", $"'tool_choice' must be none, auto, required or a function, but was '{other}'."),
            };
            return;
        }

        var named = new RequestObject(choice, "tool_choice");
        string chosen = (named.Object("function") ?? throw OpenAiRequestException.BadRequest("tool_choice.function", "'tool_choice.function' is required.")).String("name", required: true)!;
        if (!tools.Any(t => t.Name == chosen))
        {
            throw OpenAiRequestException.BadRequest("tool_choice", $"'tool_choice' names the function '{chosen}', which is not among the request's tools ({string.Join(", ", tools.Select(t => t.Name))}).");
        }

        options.ToolMode = ChatToolMode.RequireSpecific(chosen);
    }

    private static void ReadResponseFormat(RequestObject request, ChatOptions options)
    {
        if (request.Object("response_format") is not { } format)
        {
            return;
        }

        string type = format.String("type", required: true)!;
        switch (type)
        {
            case "text":
                options.ResponseFormat = ChatResponseFormat.Text;
                break;
            case "json_object":
                options.ResponseFormat = ChatResponseFormat.Json;
                break;
            case "json_schema":
                RequestObject schema = format.Object("json_schema") ?? throw OpenAiRequestException.BadRequest("response_format.json_schema", "'response_format.json_schema' is required when the type is json_schema.");
                RequestObject body = schema.Object("schema") ?? throw OpenAiRequestException.BadRequest("response_format.json_schema.schema", "'response_format.json_schema.schema' is required.");
                options.ResponseFormat = ChatResponseFormat.ForJsonSchema(body.Element.Clone(), schema.String("name"), schema.String("description"));
                break;
            default:
                throw OpenAiRequestException.BadRequest("response_format.type", $"'response_format.type' must be text, json_object or json_schema, but was '{type}'.");
        }
    }

    private static AdditionalPropertiesDictionary Extra(ChatOptions options) => options.AdditionalProperties ??= [];

    private static JsonElement EmptyObjectSchema()
    {
        using JsonDocument document = JsonDocument.Parse("""{"type":"object","properties":{}}""");
        return document.RootElement.Clone();
    }
}
