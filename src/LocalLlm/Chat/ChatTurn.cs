using System.Text;
using System.Text.RegularExpressions;

namespace LocalLlm;

/// <summary>
/// One assistant turn prepared the way llama-server prepares it: the conversation rendered by the template, the
/// prompt tokens, the generation options with the reply format's grammar, stops and reasoning budget, and the parser
/// that reads the reply. Shared by <see cref="LlamaChatClient"/> and <see cref="LlamaChatSession"/>.
/// </summary>
internal sealed partial class ChatTurn : IDisposable
{
    private ChatTurn(int[] prompt, int droppedMessages, ChatTemplateRendering rendering, LlamaGenerationOptions generation, ChatReplyParser parser)
    {
        Prompt = prompt;
        DroppedMessages = droppedMessages;
        Rendering = rendering;
        Generation = generation;
        Parser = parser;
    }

    public int[] Prompt { get; }

    /// <summary>How many of the oldest messages the history policy dropped to fit the context.</summary>
    public int DroppedMessages { get; }

    public ChatTemplateRendering Rendering { get; }

    /// <summary>The caller's generation options plus the reply format's constraints and stops.</summary>
    public LlamaGenerationOptions Generation { get; }

    public ChatReplyParser Parser { get; }

    /// <summary>Renders the request and prepares the turn.</summary>
    /// <param name="template">The chat template.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="request">What to render.</param>
    /// <param name="generation">The caller's generation options; not modified.</param>
    /// <param name="reasoningBudget">The most tokens the reasoning may take, or null for no limit.</param>
    /// <param name="contextSize">The context the prompt and the reply must fit.</param>
    /// <param name="policy">What to do when the conversation does not fit.</param>
    public static ChatTurn Prepare(
        LlamaChatTemplate template,
        LlamaTokenizer tokenizer,
        ChatTemplateRequest request,
        LlamaGenerationOptions generation,
        int? reasoningBudget,
        int contextSize,
        LlamaChatHistoryPolicy policy)
    {
        (int[] prompt, ChatTemplateRendering rendering) = ChatPrompt.Build(
            template, tokenizer, request, contextSize, ChatPrompt.Reserve(generation.MaxTokens, contextSize), policy, out int dropped);

        if (request.ToolChoice == LlamaToolChoice.Required && request.Tools.Count > 0 && rendering.Grammar.Length == 0)
        {
            throw new LlamaChatTemplateException(
                $"A tool call is required, but the chat template ({template}) has no tool-call format llama.cpp can constrain; use ToolMode Auto, or a template that supports tool calls.");
        }

        string grammar = request.ToolChoice == LlamaToolChoice.Required ? WithoutTextBeforeCalls(rendering.Grammar) : rendering.Grammar;
        var constraints = new ChatConstraints
        {
            Grammar = grammar.Length > 0 ? grammar : null,
            GrammarLazy = rendering.GrammarLazy,
            TriggerPatterns = [.. rendering.GrammarTriggers.Where(t => t.Type != ChatGrammarTriggerType.Token).Select(TriggerPattern)],
            TriggerTokens = [.. rendering.GrammarTriggers.Where(t => t.Type == ChatGrammarTriggerType.Token).Select(t => TriggerToken(tokenizer, t))],
            GenerationPrompt = rendering.GenerationPrompt,
            ThinkingStartTag = rendering.ThinkingStartTag,
            ThinkingEndTags = rendering.ThinkingEndTags,
            ReasoningBudget = reasoningBudget,
            RenderedSpecialTokens = SingleTokens(tokenizer, rendering.PreservedTokens.Concat(rendering.ThinkingEndTags).Append(rendering.ThinkingStartTag)),
        };

        var options = new LlamaGenerationOptions
        {
            MaxTokens = generation.MaxTokens,
            StopStrings = [.. generation.StopStrings, .. rendering.AdditionalStops.Where(s => !generation.StopStrings.Contains(s))],
            Sampling = generation.Sampling,
            Chat = constraints,
            TopLogProbabilities = generation.TopLogProbabilities,
            LogProbabilities = generation.LogProbabilities,
            TruncatePrompt = generation.TruncatePrompt,
            AddSpecialTokens = generation.AddSpecialTokens,
            ParseSpecialTokens = generation.ParseSpecialTokens,
        };

        bool parseToolCalls = request.Tools.Count > 0 && request.ToolChoice != LlamaToolChoice.None;
        return new ChatTurn(prompt, dropped, rendering, options, new ChatReplyParser(rendering, parseToolCalls, request.ParallelToolCalls));
    }

    public void Dispose() => Parser.Dispose();

    // llama.cpp's reply-format grammar lets text of any length come before a required call (the reply need only end
    // with one), and a small model can fill the whole token budget with it and never call. A required call starts at
    // once here: the root rule loses its optional "until the call opens" text, keeping the reasoning before it.
    private static string WithoutTextBeforeCalls(string grammar) => TextBeforeCallsInRoot().Replace(grammar, "$1", 1);

    [GeneratedRegex(@"^(root ::= .*?) until-[0-9]+\?(?= )", RegexOptions.Multiline)]
    private static partial Regex TextBeforeCallsInRoot();

    // As llama.cpp's common sampler turns triggers into the lazy grammar's patterns.
    private static string TriggerPattern(ChatGrammarTrigger trigger) => trigger.Type switch
    {
        ChatGrammarTriggerType.Word => RegexEscape(trigger.Value),
        ChatGrammarTriggerType.PatternFull when trigger.Value.Length == 0 => "^$",
        ChatGrammarTriggerType.PatternFull => (trigger.Value[0] == '^' ? string.Empty : "^") + trigger.Value + (trigger.Value[^1] == '$' ? string.Empty : "$"),
        _ => trigger.Value,
    };

    private static int TriggerToken(LlamaTokenizer tokenizer, ChatGrammarTrigger trigger)
    {
        if (trigger.Token >= 0)
        {
            return trigger.Token;
        }

        int[] tokens = tokenizer.Tokenize(trigger.Value, addSpecial: false, parseSpecial: true);
        return tokens.Length == 1
            ? tokens[0]
            : throw new LlamaChatTemplateException($"The reply format's trigger token '{trigger.Value}' is not a single token in this model's vocabulary.");
    }

    // The special tokens among the reply format's markup: generated, they are rendered as text for the parser.
    private static HashSet<int> SingleTokens(LlamaTokenizer tokenizer, IEnumerable<string> texts)
    {
        var tokens = new HashSet<int>();
        foreach (string text in texts.Where(t => t.Length > 0))
        {
            int[] ids = tokenizer.Tokenize(text, addSpecial: false, parseSpecial: true);
            if (ids.Length == 1)
            {
                tokens.Add(ids[0]);
            }
        }

        return tokens;
    }

    // llama.cpp's regex_escape: the characters ECMAScript regular expressions treat as syntax.
    private static string RegexEscape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (char ch in text)
        {
            if (".^$|()*+?[]{}\\".Contains(ch, StringComparison.Ordinal))
            {
                escaped.Append('\\');
            }

            escaped.Append(ch);
        }

        return escaped.ToString();
    }
}
