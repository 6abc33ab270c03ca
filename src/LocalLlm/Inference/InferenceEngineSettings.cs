using LocalLlm.Native;
using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>
/// How an <see cref="InferenceEngine"/> is built: its context, and the policies of its loop. Made from a
/// <see cref="LlamaContextOptions"/> (a session, a chat client) or a <see cref="LlamaSchedulerOptions"/>.
/// </summary>
internal sealed record InferenceEngineSettings
{
    public required NativeContextSettings Context { get; init; }

    /// <summary>Gets what the owner is called in the log and its threads' names: "scheduler", "session".</summary>
    public required string OwnerName { get; init; }

    /// <summary>Gets how many prompt tokens one request may evaluate per step.</summary>
    public required int PromptChunkSize { get; init; }

    public int MaxQueuedRequests { get; init; } = 64;

    public LlamaQueueFullBehavior QueueFullBehavior { get; init; } = LlamaQueueFullBehavior.Wait;

    public LlamaContextOverflowPolicy OverflowPolicy { get; init; } = LlamaContextOverflowPolicy.Shift;

    public int ShiftKeepTokens { get; init; }

    /// <summary>Gets whether a sequence keeps its tokens after its request ends, for the next request that starts the same way.</summary>
    public bool ReusePromptCache { get; init; }

    public uint? Seed { get; init; }

    public TimeSpan CallerStallLimit { get; init; } = TimeSpan.FromMilliseconds(50);

    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Gets what a request in progress fails with when the engine is disposed.</summary>
    public Func<Exception> DisposedFailure { get; init; } =
        static () => new ObjectDisposedException(nameof(LlamaScheduler), "The scheduler was disposed while the request was in progress.");

    /// <summary>
    /// Settings for a context made from <paramref name="options"/> holding <paramref name="sequences"/> sequences of
    /// <see cref="LlamaContextOptions.ContextSize"/> tokens each (the model's trained length, capped, when unset).
    /// </summary>
    public static InferenceEngineSettings FromContextOptions(LlamaModel model, LlamaContextOptions options, int sequences, string owner)
    {
        int sequenceSize = options.ContextSize ?? InferenceContexts.DefaultSize(model);
        int contextSize = sequenceSize * sequences;
        int threads = options.ThreadCount ?? CpuTopology.PhysicalCoreCount;

        // Every generating sequence puts a token in each batch, and a prompt chunk needs room beside them.
        int batchSize = Math.Min(Math.Max(options.BatchSize, sequences + 1), contextSize);
        int chunk = sequences == 1 ? batchSize : Math.Max(1, Math.Min(LlamaSchedulerOptions.DefaultPromptChunkSize, batchSize - sequences));
        return new InferenceEngineSettings
        {
            Context = new NativeContextSettings
            {
                ContextSize = contextSize,
                BatchSize = batchSize,
                MicroBatchSize = Math.Min(options.MicroBatchSize, batchSize),
                SequenceCount = sequences,
                UnifiedKvCache = sequences == 1 ? null : false,
                ThreadCount = threads,
                BatchThreadCount = options.BatchThreadCount ?? threads,
                FlashAttention = options.FlashAttention,
                KeyCacheType = options.KeyCacheType,
                ValueCacheType = options.ValueCacheType,
                PerformanceCounters = true,
            },
            OwnerName = owner,
            PromptChunkSize = chunk,
            OverflowPolicy = options.OverflowPolicy,
            ShiftKeepTokens = options.ShiftKeepTokens,
            Seed = options.Seed,
        };
    }
}
