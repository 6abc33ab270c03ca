namespace LocalLlm;

/// <summary>
/// What a chat template's reply format asks of sampling, as llama-server passes it to llama.cpp's common sampler: a
/// grammar (lazy ones wake at a trigger), the assistant opening the grammar starts after, a reasoning budget, and the
/// special tokens to render as text so the reply parser sees them.
/// </summary>
internal sealed class ChatConstraints
{
    /// <summary>The GBNF grammar from the chat layer, or null.</summary>
    public string? Grammar { get; init; }

    /// <summary>Whether the grammar applies only from a trigger on (tool calls with tool choice auto).</summary>
    public bool GrammarLazy { get; init; }

    /// <summary>Regular expressions that wake a lazy grammar, already anchored and escaped as llama.cpp's common sampler does.</summary>
    public IReadOnlyList<string> TriggerPatterns { get; init; } = [];

    /// <summary>Tokens that wake a lazy grammar.</summary>
    public IReadOnlyList<int> TriggerTokens { get; init; } = [];

    /// <summary>The assistant opening already in the prompt; a strict grammar and the reasoning budget start after it.</summary>
    public string GenerationPrompt { get; init; } = string.Empty;

    /// <summary>The reasoning block's opening tag, or empty when the template has none.</summary>
    public string ThinkingStartTag { get; init; } = string.Empty;

    /// <summary>The tags that close the reasoning block; the first is forced when the budget runs out.</summary>
    public IReadOnlyList<string> ThinkingEndTags { get; init; } = [];

    /// <summary>The most tokens the reasoning may take; null for no limit.</summary>
    public int? ReasoningBudget { get; init; }

    /// <summary>Special tokens rendered as their text when generated (the reply format's markup).</summary>
    public IReadOnlySet<int> RenderedSpecialTokens { get; init; } = new HashSet<int>();
}
