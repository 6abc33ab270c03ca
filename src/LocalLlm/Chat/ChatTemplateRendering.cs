using System.Text.Json;

namespace LocalLlm;

/// <summary>
/// What llama.cpp's chat layer made of a request (<c>common_chat_params</c>): the prompt, the grammar that constrains
/// tool calls or a JSON reply (lazy: applied only once a trigger appears), the tokens and stops the reply format
/// needs, and the parser that reads the reply.
/// </summary>
internal sealed class ChatTemplateRendering
{
    public required string Prompt { get; init; }

    /// <summary>llama.cpp's name of the reply format (e.g. <c>peg-native</c>, <c>Content-only</c>).</summary>
    public required string FormatName { get; init; }

    public required int Format { get; init; }

    /// <summary>The GBNF grammar, or empty for none.</summary>
    public required string Grammar { get; init; }

    public required bool GrammarLazy { get; init; }

    /// <summary>The assistant's opening already in the prompt (the parser and the grammar start after it).</summary>
    public required string GenerationPrompt { get; init; }

    public required bool SupportsThinking { get; init; }

    public required string ThinkingStartTag { get; init; }

    public required IReadOnlyList<string> ThinkingEndTags { get; init; }

    public required IReadOnlyList<ChatGrammarTrigger> GrammarTriggers { get; init; }

    /// <summary>Special tokens the reply's markup uses: generated, they are rendered as text so the parser sees them.</summary>
    public required IReadOnlyList<string> PreservedTokens { get; init; }

    public required IReadOnlyList<string> AdditionalStops { get; init; }

    /// <summary>The serialised reply parser.</summary>
    public required string Parser { get; init; }

    public static ChatTemplateRendering FromJson(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        return new ChatTemplateRendering
        {
            Prompt = root.GetProperty("prompt").GetString()!,
            Format = root.GetProperty("format").GetInt32(),
            FormatName = root.GetProperty("format_name").GetString()!,
            Grammar = root.GetProperty("grammar").GetString()!,
            GrammarLazy = root.GetProperty("grammar_lazy").GetBoolean(),
            GenerationPrompt = root.GetProperty("generation_prompt").GetString()!,
            SupportsThinking = root.GetProperty("supports_thinking").GetBoolean(),
            ThinkingStartTag = root.GetProperty("thinking_start_tag").GetString()!,
            ThinkingEndTags = Strings(root.GetProperty("thinking_end_tags")),
            PreservedTokens = Strings(root.GetProperty("preserved_tokens")),
            AdditionalStops = Strings(root.GetProperty("additional_stops")),
            Parser = root.GetProperty("parser").GetString()!,
            GrammarTriggers = [.. root.GetProperty("grammar_triggers").EnumerateArray().Select(t => new ChatGrammarTrigger(
                (ChatGrammarTriggerType)t.GetProperty("type").GetInt32(), t.GetProperty("value").GetString()!, t.GetProperty("token").GetInt32()))],
        };
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}

/// <summary>What wakes a lazy grammar (llama.cpp's <c>common_grammar_trigger</c>).</summary>
internal readonly record struct ChatGrammarTrigger(ChatGrammarTriggerType Type, string Value, int Token);

/// <summary>llama.cpp's <c>common_grammar_trigger_type</c>.</summary>
internal enum ChatGrammarTriggerType
{
    Token = 0,
    Word = 1,
    Pattern = 2,
    PatternFull = 3,
}
