namespace LocalLlm;

/// <summary>One step of a streamed completion: a generated token and the text it completed.</summary>
/// <remarks>
/// <see cref="Text"/> can be empty while a multi-byte character or a possible stop string is still incomplete;
/// the held-back text arrives with a later update. The last update of a completion carries
/// <see cref="FinishReason"/> and <see cref="Usage"/>, and has no token.
/// </remarks>
public sealed class LlamaGenerationUpdate
{
    /// <summary>Gets the text this step adds to the completion.</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>Gets the generated token, or null for the final update.</summary>
    public int? TokenId { get; init; }

    /// <summary>Gets the token's log-probability when log-probabilities were requested.</summary>
    public float? LogProbability { get; init; }

    /// <summary>Gets the most likely alternatives at this step when they were requested, most likely first.</summary>
    public IReadOnlyList<LlamaTokenProbability>? TopLogProbabilities { get; init; }

    /// <summary>Gets why the completion ended; set on the final update only.</summary>
    public LlamaFinishReason? FinishReason { get; init; }

    /// <summary>Gets what the completion cost; set on the final update only.</summary>
    public LlamaUsage? Usage { get; init; }
}
