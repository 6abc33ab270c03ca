using System.Buffers;
using System.Text;
using System.Text.Json;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Reads a reply as it is generated with llama.cpp's parser for the template's reply format, keeping the answer, the
/// reasoning and the tool calls apart; tool-call markup never reaches the answer.
/// </summary>
/// <remarks>
/// llama.cpp's parser reads the whole text each time, so parsing at every token costs time that grows with the
/// reply. Text that holds none of the characters the format's markup starts with (its grammar triggers, preserved
/// tokens and thinking tags, and <c>&lt;[{|&gt;`</c>) and arrives while the last parse put every new character into
/// the answer (or the reasoning) goes there directly; anything else is parsed in full. The final parse always reads
/// the whole reply.
/// </remarks>
internal sealed class ChatReplyParser : IDisposable
{
    private const string BaseMarkupCharacters = "<[{|>`]｜";

    private readonly SafeChatParserHandle _parser;
    private readonly bool _allowMultipleCalls;
    private readonly SearchValues<char> _markup;
    private readonly ArrayBufferWriter<byte> _utf8 = new(1024);
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private int _toolCallCount;
    private Field _following = Field.None;
    private string _heldWhitespace = string.Empty;
    private bool _parsedOnce;

    /// <param name="rendering">The rendered prompt whose reply format to parse.</param>
    /// <param name="parseToolCalls">Whether tool calls are read as calls (tools were offered) rather than left as text.</param>
    /// <param name="allowMultipleCalls">Whether a reply may call several tools; when not, only the first call counts
    /// (some formats' grammars allow several calls whatever the request said).</param>
    public ChatReplyParser(ChatTemplateRendering rendering, bool parseToolCalls, bool allowMultipleCalls = true)
    {
        _allowMultipleCalls = allowMultipleCalls;
        var parameters = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(parameters))
        {
            json.WriteStartObject();
            json.WriteNumber("format", rendering.Format);
            json.WriteString("reasoning_format", "auto");
            json.WriteString("generation_prompt", rendering.GenerationPrompt);
            json.WriteBoolean("parse_tool_calls", parseToolCalls);
            json.WriteString("parser", rendering.Parser);
            json.WriteEndObject();
        }

        _parser = NativeChatLayer.CreateParser(Encoding.UTF8.GetString(parameters.WrittenSpan));
        _markup = SearchValues.Create(MarkupCharacters(rendering));
    }

    /// <summary>Gets how many times the whole text was parsed (for the benchmark).</summary>
    public int FullParses { get; private set; }

    /// <summary>Gets a value indicating whether every piece is parsed in full, as llama-server does (the benchmark's baseline).</summary>
    public bool ParseEveryPiece { get; init; }

    /// <summary>Gets a value indicating whether the reply is still in its reasoning: none of the answer and no tool call yet.</summary>
    public bool InReasoning => _reasoning.Length > 0 && _content.Length == 0 && _toolCallCount == 0;

    /// <summary>Adds generated text; returns what it adds to the answer and to the reasoning.</summary>
    public ChatReplyDelta Append(string text)
    {
        if (text.Length == 0)
        {
            return default;
        }

        int byteCount = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, _utf8.GetSpan(byteCount));
        _utf8.Advance(byteCount);

        if (!ParseEveryPiece && _parsedOnce && _following != Field.None && text.AsSpan().IndexOfAny(_markup) < 0)
        {
            return AppendDirectly(text);
        }

        string arrived = _heldWhitespace + text;
        _heldWhitespace = string.Empty;

        ParsedReply parsed;
        try
        {
            parsed = Parse(isPartial: true);
        }
        catch (NativeChatLayerException)
        {
            // A partial reply that does not parse yet (a call half written) adds nothing until more text arrives.
            _following = Field.None;
            return default;
        }

        string contentDelta = Advance(_content, parsed.Content);
        string reasoningDelta = Advance(_reasoning, parsed.Reasoning);
        _toolCallCount = parsed.ToolCalls.Count;
        bool revised = _content.Length + _reasoning.Length != parsed.Content.Length + parsed.Reasoning.Length;
        _following = _toolCallCount > 0 || revised ? Field.None
            : contentDelta.Length > 0 && contentDelta == arrived ? Field.Content
            : parsed.Content.Length == 0 && reasoningDelta.Length > 0 && reasoningDelta == arrived ? Field.Reasoning
            : Field.None;
        _parsedOnce = true;
        return new ChatReplyDelta(contentDelta, reasoningDelta);
    }

    // Text with no markup, arriving while the last parse put everything into one field, goes straight there. Trailing
    // whitespace waits for the next piece, since a parser may drop it before a call; the next parse or the final one
    // releases it where the parser keeps it.
    private ChatReplyDelta AppendDirectly(string text)
    {
        string pending = _heldWhitespace + text;
        int end = pending.AsSpan().TrimEnd().Length;
        _heldWhitespace = pending[end..];
        string delta = pending[..end];
        (_following == Field.Content ? _content : _reasoning).Append(delta);
        return _following == Field.Content ? new ChatReplyDelta(delta, string.Empty) : new ChatReplyDelta(string.Empty, delta);
    }

    /// <summary>
    /// Parses the whole reply as final. A reply the token limit cut off (<paramref name="cutOff"/>) loses its last
    /// call: llama.cpp's lenient parse reads a call half written as a call, with arguments cut short. When the reply
    /// does not match the format, <paramref name="error"/> says why: a cut-off reply keeps what parsed before the
    /// break; a reply the model ended itself is returned whole as text, since what it wrote is no call.
    /// </summary>
    public ChatReply Complete(bool cutOff, out string? error)
    {
        error = null;
        ParsedReply parsed;
        try
        {
            parsed = Parse(isPartial: false);
        }
        catch (NativeChatLayerException ex)
        {
            error = ex.Message;
            ParsedReply? partial;
            try
            {
                partial = Parse(isPartial: true);
            }
            catch (NativeChatLayerException)
            {
                partial = null;
            }

            // llama.cpp maps only what parsed before the point of failure, so the partial parse alone would drop plain
            // text the format cannot place (a '{' in a Llama 3 answer with tools offered).
            parsed = cutOff && partial is not null
                ? partial
                : new ParsedReply(Encoding.UTF8.GetString(_utf8.WrittenSpan), string.Empty, []);
        }

        if (cutOff && parsed.ToolCalls.Count > 0)
        {
            // The last call is the one the limit cut; calls before it were followed by more text, so they were whole.
            error ??= "the token limit cut the reply off while it was calling a tool; the call it cut is dropped";
            parsed = parsed with { ToolCalls = [.. parsed.ToolCalls.Take(parsed.ToolCalls.Count - 1)] };
        }

        LlamaToolCall[] calls = [.. parsed.ToolCalls.Take(_allowMultipleCalls ? int.MaxValue : 1).Select(c => c with { Id = c.Id.Length > 0 ? c.Id : NewCallId() })];

        // The final parse may release text a partial parse held back (e.g. a trailing '<' that turned out to be text).
        var remainder = new ChatReplyDelta(Advance(_content, parsed.Content), Advance(_reasoning, parsed.Reasoning));
        return new ChatReply(parsed.Content, parsed.Reasoning, calls, remainder);
    }

    public void Dispose() => _parser.Dispose();

    private ParsedReply Parse(bool isPartial)
    {
        FullParses++;
        string json = NativeChatLayer.Parse(_parser, _utf8.WrittenSpan, isPartial);
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        string content = root.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : string.Empty;
        string reasoning = root.TryGetProperty("reasoning_content", out JsonElement r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : string.Empty;
        var calls = new List<LlamaToolCall>();
        if (root.TryGetProperty("tool_calls", out JsonElement toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement call in toolCalls.EnumerateArray())
            {
                JsonElement function = call.GetProperty("function");
                calls.Add(new LlamaToolCall(
                    call.TryGetProperty("id", out JsonElement id) ? id.GetString() ?? string.Empty : string.Empty,
                    function.GetProperty("name").GetString() ?? string.Empty,
                    function.TryGetProperty("arguments", out JsonElement arguments) ? arguments.GetString() ?? "{}" : "{}"));
            }
        }

        return new ParsedReply(content, reasoning, calls);
    }

    // What the new parse adds to what was already streamed. A parse that revised the streamed text (rare: trailing
    // whitespace before a call) adds nothing until it extends it again, since streamed text cannot be taken back.
    private static string Advance(StringBuilder streamed, string parsed)
    {
        if (parsed.Length <= streamed.Length || !StartsWith(parsed, streamed))
        {
            return string.Empty;
        }

        string delta = parsed[streamed.Length..];
        streamed.Append(delta);
        return delta;
    }

    private static bool StartsWith(string text, StringBuilder prefix)
    {
        int offset = 0;
        foreach (ReadOnlyMemory<char> chunk in prefix.GetChunks())
        {
            if (!text.AsSpan(offset, chunk.Length).SequenceEqual(chunk.Span))
            {
                return false;
            }

            offset += chunk.Length;
        }

        return true;
    }

    private static string MarkupCharacters(ChatTemplateRendering rendering)
    {
        var characters = new HashSet<char>(BaseMarkupCharacters);
        IEnumerable<string> literals = rendering.PreservedTokens
            .Concat(rendering.ThinkingEndTags)
            .Append(rendering.ThinkingStartTag)
            .Concat(rendering.GrammarTriggers.Where(t => t.Type == ChatGrammarTriggerType.Word).Select(t => t.Value));
        foreach (string literal in literals.Where(l => l.Length > 0))
        {
            characters.Add(literal[0]);
        }

        // A pattern's first literal is hard to know in general; every punctuation character it holds stands in for it.
        foreach (ChatGrammarTrigger trigger in rendering.GrammarTriggers.Where(t => t.Type is ChatGrammarTriggerType.Pattern or ChatGrammarTriggerType.PatternFull))
        {
            characters.UnionWith(trigger.Value.Where(ch => !char.IsLetterOrDigit(ch) && !char.IsWhiteSpace(ch)));
        }

        return new string([.. characters]);
    }

    // Unique, not secret: Guid's random bits come from the OS, where RandomNumberGenerator on Linux needs OpenSSL, which a
    // minimal container or an emulated test machine may not have.
    private static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    private enum Field
    {
        None,
        Content,
        Reasoning,
    }

    private sealed record ParsedReply(string Content, string Reasoning, IReadOnlyList<LlamaToolCall> ToolCalls);
}

/// <summary>What one piece of generated text added to the answer and to the reasoning.</summary>
internal readonly record struct ChatReplyDelta(string Content, string Reasoning)
{
    public bool IsEmpty => string.IsNullOrEmpty(Content) && string.IsNullOrEmpty(Reasoning);
}

/// <summary>A whole reply: the answer, the reasoning and the tool calls; <paramref name="Remainder"/> is what had not been streamed yet.</summary>
internal sealed record ChatReply(string Content, string Reasoning, IReadOnlyList<LlamaToolCall> ToolCalls, ChatReplyDelta Remainder);
