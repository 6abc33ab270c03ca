namespace LocalLlm.Native;

/// <summary>
/// What LocalLlm sets when it creates a llama.cpp context; a null (or false) setting keeps llama.cpp's default.
/// </summary>
internal readonly record struct NativeContextSettings
{
    public required int ContextSize { get; init; }

    public required int BatchSize { get; init; }

    public required int MicroBatchSize { get; init; }

    public required int ThreadCount { get; init; }

    public required int BatchThreadCount { get; init; }

    public int? SequenceCount { get; init; }

    /// <summary>Gets whether every sequence may use the whole KV cache instead of its own share.</summary>
    public bool? UnifiedKvCache { get; init; }

    public LlamaFlashAttention? FlashAttention { get; init; }

    public LlamaKvCacheType? KeyCacheType { get; init; }

    public LlamaKvCacheType? ValueCacheType { get; init; }

    /// <summary>Gets whether the context computes embeddings instead of logits.</summary>
    public bool Embeddings { get; init; }

    public LlamaPooling? Pooling { get; init; }

    /// <summary>Gets whether llama.cpp keeps its performance counters (off by default).</summary>
    public bool PerformanceCounters { get; init; }

    internal llama_context_params ToNative()
    {
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = (uint)ContextSize;
        parameters.n_batch = (uint)BatchSize;
        parameters.n_ubatch = (uint)MicroBatchSize;
        parameters.n_threads = ThreadCount;
        parameters.n_threads_batch = BatchThreadCount;
        if (SequenceCount is { } sequences)
        {
            parameters.n_seq_max = (uint)sequences;
        }

        if (UnifiedKvCache is { } unified)
        {
            parameters.kv_unified = unified ? (byte)1 : (byte)0;
        }

        if (FlashAttention is { } flashAttention)
        {
            parameters.flash_attn_type = (llama_flash_attn_type)flashAttention;
        }

        if (KeyCacheType is { } keyType)
        {
            parameters.type_k = (ggml_type)keyType;
        }

        if (ValueCacheType is { } valueType)
        {
            parameters.type_v = (ggml_type)valueType;
        }

        if (Embeddings)
        {
            parameters.embeddings = 1;
        }

        if (Pooling is { } pooling)
        {
            parameters.pooling_type = (llama_pooling_type)pooling;
        }

        if (PerformanceCounters)
        {
            parameters.no_perf = 0;
        }

        return parameters;
    }
}
