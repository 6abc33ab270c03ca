namespace LocalLlm;

/// <summary>
/// Speculative decoding by prompt lookup (n-gram drafting, llama.cpp's <c>--spec-type ngram-simple</c> idea): the last
/// tokens are looked up earlier in the prompt and the reply, the tokens that followed them there are proposed as a
/// draft, and the model checks the whole draft in one decode. Each position is sampled as it would be without a draft
/// (the sampler's next draw over that position's logits), and the draft is kept up to the first position where the
/// sample differs, as llama.cpp accepts drafts. A multi-token decode's logits can differ from a one-token decode's in
/// the last bits, as in llama.cpp, so a sampled run can part from the plain one where two tokens nearly tie; greedy
/// output is the same. It pays off where the reply repeats its context (code edits, extraction, quoting); elsewhere a
/// draft is rarely found and costs little.
/// </summary>
public sealed class LlamaSpeculationOptions
{
    /// <summary>
    /// Gets or sets a smaller model of the same vocabulary that drafts instead of prompt lookup: its greedy continuation
    /// is the draft (llama.cpp's classic speculative decoding). The engine keeps a context of it beside its own, with as
    /// many sequences. A model whose vocabulary differs from the target's is refused when a request starts. Default:
    /// null, prompt lookup.
    /// </summary>
    public LlamaModel? DraftModel { get; set; }

    /// <summary>Gets or sets how many of the last tokens must match earlier text for a draft. Default: 3.</summary>
    public int LookupNgramSize { get; set; } = 3;

    /// <summary>Gets or sets the most tokens a draft proposes; a request halves its drafts after one the model rejects at once and doubles them again after one it keeps whole. Default: 8.</summary>
    public int MaxDraftTokens { get; set; } = 8;

    /// <summary>Checks that every value is in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    public void Validate()
    {
        if (LookupNgramSize is < 1 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(LookupNgramSize), LookupNgramSize, $"{nameof(LookupNgramSize)} must be between 1 and 16, but was {LookupNgramSize}.");
        }

        if (DraftModel is { IsDisposed: true } disposed)
        {
            throw new ObjectDisposedException(nameof(DraftModel), $"The draft model '{disposed.Path}' was disposed.");
        }

        if (MaxDraftTokens is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDraftTokens), MaxDraftTokens, $"{nameof(MaxDraftTokens)} must be between 1 and 64, but was {MaxDraftTokens}.");
        }
    }
}
