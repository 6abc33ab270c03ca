namespace LocalLlm;

/// <summary>A candidate token and its log-probability under the model (before sampling transforms).</summary>
/// <param name="TokenId">The token id.</param>
/// <param name="Text">The token's text (may be part of a multi-byte character, decoded leniently).</param>
/// <param name="LogProbability">The natural-log probability.</param>
public readonly record struct LlamaTokenProbability(int TokenId, string Text, float LogProbability);
