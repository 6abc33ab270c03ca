using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm;

/// <summary>
/// Maps Microsoft.Extensions.AI's messages onto the messages a chat template renders (text, reasoning, tool calls and
/// their results), and parsed tool calls back onto <see cref="FunctionCallContent"/>.
/// </summary>
internal static class ChatMessageMapper
{
    public static List<LlamaChatMessage> ToLlama(IEnumerable<ChatMessage> messages)
    {
        var result = new List<LlamaChatMessage>();
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            var text = new StringBuilder();
            var reasoning = new StringBuilder();
            var calls = new List<LlamaToolCall>();
            foreach (AIContent content in message.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        text.Append(t.Text);
                        break;
                    case TextReasoningContent r:
                        reasoning.Append(r.Text);
                        break;
                    case FunctionCallContent call:
                        calls.Add(new LlamaToolCall(call.CallId, call.Name, SerializeArguments(call.Arguments)));
                        toolNames[call.CallId] = call.Name;
                        break;
                    case FunctionResultContent functionResult:
                        // Each result is a message of its own: templates render one tool message per call.
                        result.Add(LlamaChatMessage.Tool(functionResult.CallId, SerializeResult(functionResult), toolNames.GetValueOrDefault(functionResult.CallId)));
                        break;
                    case UsageContent:
                        break;
                    default:
                        throw new NotSupportedException(
                            $"LlamaChatClient handles text, reasoning, function calls and function results; a {message.Role} message holds {content.GetType().Name}. Remove it, or describe it in text.");
                }
            }

            if (message.Role == ChatRole.Tool && message.Contents.All(c => c is FunctionResultContent or UsageContent))
            {
                continue; // already added, one tool message per result
            }

            if (text.Length == 0 && reasoning.Length == 0 && calls.Count == 0 && message.Contents.Any(c => c is FunctionResultContent))
            {
                continue;
            }

            result.Add(new LlamaChatMessage(message.Role.Value, text.ToString())
            {
                ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null,
                ToolCalls = calls.Count > 0 ? calls : null,
            });
        }

        return result;
    }

    /// <summary>A parsed tool call as Microsoft.Extensions.AI's content, its arguments deserialised as the OpenAI client does.</summary>
    public static FunctionCallContent ToFunctionCall(LlamaToolCall call) =>
        FunctionCallContent.CreateFromParsedArguments(
            call.Arguments,
            call.Id,
            call.Name,
            static json => JsonSerializer.Deserialize(json, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>))) as IDictionary<string, object?>);

    private static string SerializeArguments(IDictionary<string, object?>? arguments) =>
        arguments is null ? "{}" : JsonSerializer.Serialize(arguments, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)));

    private static string SerializeResult(FunctionResultContent result) => result.Result switch
    {
        null when result.Exception is { } exception => $"Error: {exception.Message}",
        null => string.Empty,
        string text => text,
        JsonElement { ValueKind: JsonValueKind.String } json => json.GetString() ?? string.Empty,
        JsonElement json => json.GetRawText(),
        object value => JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
    };
}
