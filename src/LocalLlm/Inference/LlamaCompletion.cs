namespace LocalLlm;

/// <summary>A finished completion.</summary>
/// <param name="Text">The generated text (without any stop string).</param>
/// <param name="TokenIds">The generated tokens.</param>
/// <param name="FinishReason">Why generation ended.</param>
/// <param name="Usage">What the completion cost.</param>
public sealed record LlamaCompletion(string Text, IReadOnlyList<int> TokenIds, LlamaFinishReason FinishReason, LlamaUsage Usage);
