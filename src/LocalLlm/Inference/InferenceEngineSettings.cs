using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// How an <see cref="InferenceEngine"/> is built: its context; the loop's policies, which are a scheduler's options
/// (a session's and a chat client's are made from their context options); what the owner is called in the log and
/// its threads' names ("scheduler", "session"); and what a request in progress fails with when the engine is disposed.
/// </summary>
internal sealed record InferenceEngineSettings(NativeContextSettings Context, LlamaSchedulerOptions Loop, string OwnerName, Func<Exception> DisposedFailure)
{
    /// <summary>
    /// Settings for a context made from <paramref name="options"/> holding <paramref name="sequences"/> sequences of
    /// <see cref="LlamaContextOptions.ContextSize"/> tokens each (the model's trained length, capped, when unset).
    /// </summary>
    public static InferenceEngineSettings FromContextOptions(LlamaModel model, LlamaContextOptions options, int sequences, string owner, Func<Exception> disposedFailure)
    {
        int sequenceSize = options.ContextSize ?? InferenceContexts.DefaultSize(model);
        int contextSize = sequenceSize * sequences;
        int threads = options.ThreadCount ?? CpuTopology.PhysicalCoreCount;

        // Every generating sequence puts a token in each batch, and a prompt chunk needs room beside them.
        int batchSize = Math.Min(Math.Max(options.BatchSize, sequences + 1), contextSize);
        var context = new NativeContextSettings
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
        };
        var loop = new LlamaSchedulerOptions
        {
            ParallelSequences = sequences,
            ContextSizePerSequence = sequenceSize,
            PromptChunkSize = sequences == 1 ? batchSize : Math.Max(1, Math.Min(LlamaSchedulerOptions.DefaultPromptChunkSize, batchSize - sequences)),
            OverflowPolicy = options.OverflowPolicy,
            ShiftKeepTokens = options.ShiftKeepTokens,
            Seed = options.Seed,
            ThreadPolling = options.ThreadPolling,
            AdaptThreadsToLoad = options.AdaptThreadsToLoad,
        };
        return new InferenceEngineSettings(context, loop, owner, disposedFailure);
    }
}
