namespace LocalLlm;

/// <summary>How an inference context (a <see cref="LlamaSession"/>) is created. Validated when the session is created.</summary>
public sealed class LlamaContextOptions
{
    /// <summary>The context size used when <see cref="ContextSize"/> is not set and the model was trained on more.</summary>
    public const int DefaultContextSizeLimit = 4096;

    /// <summary>
    /// Gets or sets the context window in tokens. Default: null, the smaller of the model's trained context length and
    /// <see cref="DefaultContextSizeLimit"/>.
    /// </summary>
    /// <remarks>
    /// llama.cpp raises a window below 256 tokens to 256 and rounds others up to its padding; the session's
    /// <see cref="LlamaSession.ContextSize"/> (a scheduler's <see cref="LlamaScheduler.ContextSizePerSequence"/>) reports
    /// the window actually made, and prompts are measured against that.
    /// </remarks>
    public int? ContextSize { get; set; }

    /// <summary>Gets or sets the most tokens submitted to one decode call (prompt chunk size). Default: 2048.</summary>
    public int BatchSize { get; set; } = 2048;

    /// <summary>Gets or sets the physical batch size llama.cpp computes at once. Default: 512; at most <see cref="BatchSize"/>.</summary>
    public int MicroBatchSize { get; set; } = 512;

    /// <summary>Gets or sets the threads used to generate tokens. Default: null, the number of physical cores.</summary>
    public int? ThreadCount { get; set; }

    /// <summary>Gets or sets the threads used to evaluate prompts. Default: null, the same as <see cref="ThreadCount"/>.</summary>
    public int? BatchThreadCount { get; set; }

    /// <summary>
    /// Gets or sets how long llama.cpp's worker threads spin for the next decode before they sleep, from 0 (sleep at
    /// once) to 100 (spin longest). The workers live as long as the context, in a persistent threadpool. Default: 0:
    /// idle workers leave the cores to other work (spinning ones slowed another loop in the same process 6x). A higher
    /// value saves each decode the workers' wake-up, which shows only where a token takes about a millisecond.
    /// </summary>
    public int ThreadPolling { get; set; }

    /// <summary>
    /// Gets or sets whether decodes use fewer threads while other processes keep cores busy (Linux: read from
    /// <c>/proc</c> every quarter second). llama.cpp's workers spin at a barrier after every step of the computation,
    /// so one thread more than the free cores makes generation 30-100x slower; with this on, a busy machine costs a
    /// share of the speed instead. Default: true.
    /// </summary>
    public bool AdaptThreadsToLoad { get; set; } = true;

    /// <summary>Gets or sets whether Flash Attention is used. Default: <see cref="LlamaFlashAttention.Auto"/>.</summary>
    public LlamaFlashAttention FlashAttention { get; set; } = LlamaFlashAttention.Auto;

    /// <summary>Gets or sets the element type of the KV cache's keys. Default: <see cref="LlamaKvCacheType.F16"/>.</summary>
    public LlamaKvCacheType KeyCacheType { get; set; } = LlamaKvCacheType.F16;

    /// <summary>
    /// Gets or sets the element type of the KV cache's values. Default: <see cref="LlamaKvCacheType.F16"/>. A quantized
    /// value cache needs Flash Attention, so it cannot be combined with <see cref="LlamaFlashAttention.Disabled"/>.
    /// </summary>
    public LlamaKvCacheType ValueCacheType { get; set; } = LlamaKvCacheType.F16;

    /// <summary>Gets or sets the seed used when a generation's sampling options leave the seed random. Default: null (random).</summary>
    public uint? Seed { get; set; }

    /// <summary>Gets or sets what happens when generation fills the context. Default: <see cref="LlamaContextOverflowPolicy.Shift"/>.</summary>
    public LlamaContextOverflowPolicy OverflowPolicy { get; set; } = LlamaContextOverflowPolicy.Shift;

    /// <summary>
    /// Gets or sets how many tokens at the start of the context survive a shift (for example a system prompt).
    /// Default: 0 (the beginning-of-sequence token is always kept when the model uses one).
    /// </summary>
    public int ShiftKeepTokens { get; set; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    /// <exception cref="ArgumentException">Two settings contradict each other.</exception>
    public void Validate()
    {
        if (ContextSize is { } contextSize && contextSize is < 16 or > 1 << 24)
        {
            throw OutOfRange(nameof(ContextSize), contextSize, "must be between 16 and 16777216 tokens");
        }

        if (BatchSize < 1)
        {
            throw OutOfRange(nameof(BatchSize), BatchSize, "must be at least 1");
        }

        if (MicroBatchSize < 1 || MicroBatchSize > BatchSize)
        {
            throw OutOfRange(nameof(MicroBatchSize), MicroBatchSize, $"must be between 1 and {nameof(BatchSize)} ({BatchSize})");
        }

        if (ThreadCount is { } threads && threads is < 1 or > 1024)
        {
            throw OutOfRange(nameof(ThreadCount), threads, "must be between 1 and 1024");
        }

        if (BatchThreadCount is { } batchThreads && batchThreads is < 1 or > 1024)
        {
            throw OutOfRange(nameof(BatchThreadCount), batchThreads, "must be between 1 and 1024");
        }

        if (ThreadPolling is < 0 or > 100)
        {
            throw OutOfRange(nameof(ThreadPolling), ThreadPolling, "must be between 0 and 100");
        }

        if (!Enum.IsDefined(FlashAttention))
        {
            throw OutOfRange(nameof(FlashAttention), FlashAttention, $"is not a defined {nameof(LlamaFlashAttention)}");
        }

        if (!Enum.IsDefined(KeyCacheType))
        {
            throw OutOfRange(nameof(KeyCacheType), KeyCacheType, $"is not a defined {nameof(LlamaKvCacheType)}");
        }

        if (!Enum.IsDefined(ValueCacheType))
        {
            throw OutOfRange(nameof(ValueCacheType), ValueCacheType, $"is not a defined {nameof(LlamaKvCacheType)}");
        }

        if (!Enum.IsDefined(OverflowPolicy))
        {
            throw OutOfRange(nameof(OverflowPolicy), OverflowPolicy, $"is not a defined {nameof(LlamaContextOverflowPolicy)}");
        }

        if (ShiftKeepTokens < 0)
        {
            throw OutOfRange(nameof(ShiftKeepTokens), ShiftKeepTokens, "must be 0 or greater");
        }

        if (ValueCacheType != LlamaKvCacheType.F16 && FlashAttention == LlamaFlashAttention.Disabled)
        {
            throw new ArgumentException(
                $"{nameof(ValueCacheType)} {ValueCacheType} needs Flash Attention, but {nameof(FlashAttention)} is {FlashAttention}.",
                nameof(ValueCacheType));
        }
    }

    private static ArgumentOutOfRangeException OutOfRange<T>(string name, T value, string rule) =>
        new(name, value, $"{name} {rule}, but was {value}.");
}
