namespace LocalLlm;

/// <summary>How a <see cref="LlamaReranker"/> scores documents.</summary>
public sealed class LlamaRerankerOptions
{
    /// <summary>Gets or sets the context in tokens, which bounds a query-document pair and a batch. Default: null, the model's trained length capped at 4096 (512 when the model gives none).</summary>
    public int? ContextSize { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a pair longer than the context is cut (the document's end, keeping the
    /// closing special token) rather than refused with <see cref="LlamaContextOverflowException"/>. Default: false.
    /// </summary>
    public bool TruncateInputs { get; set; }

    /// <summary>Gets or sets how many pairs one decode scores together, each as its own sequence. Default: 16.</summary>
    public int MaxSequencesPerBatch { get; set; } = 16;

    /// <summary>Gets or sets the CPU threads. Default: null, the physical cores.</summary>
    public int? ThreadCount { get; set; }

    /// <summary>Checks that every value is in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    public void Validate() => ToEmbeddingOptions().Validate();

    internal LlamaEmbeddingOptions ToEmbeddingOptions() => new()
    {
        ContextSize = ContextSize,
        TruncateInputs = TruncateInputs,
        MaxSequencesPerBatch = MaxSequencesPerBatch,
        ThreadCount = ThreadCount,
        Normalize = false,
    };
}
