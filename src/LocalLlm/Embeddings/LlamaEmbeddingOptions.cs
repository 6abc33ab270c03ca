namespace LocalLlm;

/// <summary>How a <see cref="LlamaEmbeddingGenerator"/> embeds text.</summary>
public sealed class LlamaEmbeddingOptions
{
    /// <summary>Gets or sets the most tokens one input may have. Default: null, the model's trained context length capped at 4096.</summary>
    public int? ContextSize { get; set; }

    /// <summary>Gets or sets the pooling. Default: null, what the model's metadata says (<c>*.pooling_type</c>).</summary>
    public LlamaPooling? Pooling { get; set; }

    /// <summary>Gets or sets a value indicating whether every vector is scaled to unit (L2) length. Default: true.</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether an input longer than <see cref="ContextSize"/> is cut to fit instead of
    /// throwing <see cref="LlamaContextOverflowException"/>. Default: false.
    /// </summary>
    public bool TruncateInputs { get; set; }

    /// <summary>Gets or sets how many inputs share one decode call. Default: 16.</summary>
    public int MaxSequencesPerBatch { get; set; } = 16;

    /// <summary>Gets or sets the threads used. Default: null, the number of physical cores.</summary>
    public int? ThreadCount { get; set; }

    /// <summary>Gets or sets the model id reported in embeddings and metadata. Default: null, the model's file name.</summary>
    public string? ModelId { get; set; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    public void Validate()
    {
        if (ContextSize is { } contextSize && contextSize is < 8 or > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextSize), contextSize, $"{nameof(ContextSize)} must be between 8 and 1048576, but was {contextSize}.");
        }

        if (Pooling is { } pooling && !Enum.IsDefined(pooling))
        {
            throw new ArgumentOutOfRangeException(nameof(Pooling), pooling, $"{nameof(Pooling)} {(int)pooling} is not a defined {nameof(LlamaPooling)}.");
        }

        if (MaxSequencesPerBatch is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSequencesPerBatch), MaxSequencesPerBatch, $"{nameof(MaxSequencesPerBatch)} must be between 1 and 256, but was {MaxSequencesPerBatch}.");
        }

        if (ThreadCount is { } threads && threads is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(ThreadCount), threads, $"{nameof(ThreadCount)} must be between 1 and 1024, but was {threads}.");
        }
    }
}
