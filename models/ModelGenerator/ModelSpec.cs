using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>The full recipe of a generated model: architecture, dimensions, vocabulary, tensor types and seed.</summary>
/// <param name="Shape">The shape this recipe belongs to.</param>
/// <param name="Architecture">The llama.cpp architecture: <c>llama</c> or <c>bert</c>.</param>
/// <param name="Vocabulary">The vocabulary GGUF in llama.cpp's models/ folder whose tokenizer is copied, without <c>ggml-vocab-</c> and <c>.gguf</c>.</param>
/// <param name="EmbeddingLength">The model width (n_embd).</param>
/// <param name="BlockCount">The number of transformer layers.</param>
/// <param name="HeadCount">The number of attention heads.</param>
/// <param name="KeyValueHeadCount">The number of key/value heads (grouped-query attention).</param>
/// <param name="FeedForwardLength">The hidden size of the feed-forward network.</param>
/// <param name="ContextLength">The training context length stored in the metadata.</param>
/// <param name="RopeFreqBase">The RoPE base frequency (llama only).</param>
/// <param name="NormEpsilon">The epsilon of the RMS norm (llama) or layer norm (bert).</param>
/// <param name="TokenEmbeddingType">The type of <c>token_embd.weight</c>, which dominates the file size.</param>
/// <param name="WeightType">The type of the other weight matrices; norms and biases are always F32.</param>
/// <param name="Seed">The seed of the random weights.</param>
public sealed record ModelSpec(
    ModelShape Shape,
    string Architecture,
    string Vocabulary,
    int EmbeddingLength,
    int BlockCount,
    int HeadCount,
    int KeyValueHeadCount,
    int FeedForwardLength,
    int ContextLength,
    float RopeFreqBase,
    float NormEpsilon,
    GgmlType TokenEmbeddingType,
    GgmlType WeightType,
    ulong Seed)
{
    /// <summary>The standard deviation of the random weight matrices (norm weights are 1, biases 0).</summary>
    public const float WeightStandardDeviation = 0.02f;

    /// <summary>The recipe of a shape.</summary>
    /// <param name="shape">The shape.</param>
    /// <returns>Its recipe.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shape"/> is not a defined shape.</exception>
    public static ModelSpec For(ModelShape shape) => shape switch
    {
        ModelShape.Tiny => new(shape, "llama", "llama-bpe", 64, 2, 4, 2, 128, 2048, 500000f, 1e-5f, GgmlType.Q8_0, GgmlType.F16, 1),
        ModelShape.Small => new(shape, "llama", "llama-bpe", 576, 30, 9, 3, 1536, 8192, 100000f, 1e-5f, GgmlType.F16, GgmlType.F16, 2),
        ModelShape.OneB => new(shape, "llama", "llama-bpe", 2048, 16, 32, 8, 8192, 131072, 500000f, 1e-5f, GgmlType.F16, GgmlType.F16, 3),
        ModelShape.Embedding => new(shape, "bert", "bert-bge", 128, 2, 4, 4, 512, 512, 0f, 1e-12f, GgmlType.F16, GgmlType.F16, 4),
        ModelShape.Reranker => new(shape, "bert", "bert-bge", 128, 2, 4, 4, 512, 512, 0f, 1e-12f, GgmlType.F16, GgmlType.F16, 5),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, $"Unknown model shape {shape}; use one of {string.Join(", ", Enum.GetNames<ModelShape>())}."),
    };

    /// <summary>
    /// Gets a name for a variant of the shape (for example one with a different chat template), part of the file name so
    /// that variants and the standard shape do not replace each other in the cache. Default: null, the standard shape.
    /// </summary>
    public string? Variant { get; init; }

    /// <summary>
    /// Gets the chat template written into <c>tokenizer.chat_template</c>: a file under the llama.cpp tree's
    /// <c>models/templates/</c> (llama architecture only), or null for a model without one. Default: Llama 3.2 Instruct's.
    /// </summary>
    public string? ChatTemplateFile { get; init; } = "meta-llama-Llama-3.2-3B-Instruct.jinja";

    /// <summary>The size of one attention head (n_embd / n_head).</summary>
    public int HeadLength => EmbeddingLength / HeadCount;

    /// <summary>The lower-case name used in file names and on the command line, for example <c>tiny</c> or <c>1b</c>.</summary>
    public string FileStem => (Shape == ModelShape.OneB ? "1b" : Shape.ToString().ToLowerInvariant()) + (Variant is null ? string.Empty : $"-{Variant}");
}
