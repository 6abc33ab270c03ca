using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>How a <see cref="LlamaScheduler"/> shares one context among concurrent requests.</summary>
public sealed class LlamaSchedulerOptions
{
    internal const int DefaultPromptChunkSize = 256;

    /// <summary>Gets or sets how many requests generate at once, each as its own sequence in every decode. Default: 4.</summary>
    public int ParallelSequences { get; set; } = 4;

    /// <summary>Gets or sets each sequence's context window in tokens (the context holds this many per sequence). Default: 2048.</summary>
    public int ContextSizePerSequence { get; set; } = 2048;

    /// <summary>Gets or sets the most prompt tokens one request evaluates per step, so a long prompt never stalls the other streams. Default: 256.</summary>
    public int PromptChunkSize { get; set; } = DefaultPromptChunkSize;

    /// <summary>Gets or sets how many requests may wait for a free sequence. Default: 64.</summary>
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Gets or sets what a request does when the queue is full. Default: <see cref="LlamaQueueFullBehavior.Wait"/>.</summary>
    public LlamaQueueFullBehavior QueueFullBehavior { get; set; } = LlamaQueueFullBehavior.Wait;

    /// <summary>
    /// Gets or sets what happens when a request's sequence fills its context: shift that sequence (keeping its first
    /// <see cref="ShiftKeepTokens"/> tokens) or finish the request with <see cref="LlamaFinishReason.ContextFull"/>.
    /// Default: <see cref="LlamaContextOverflowPolicy.Shift"/>, as for a session.
    /// </summary>
    public LlamaContextOverflowPolicy OverflowPolicy { get; set; } = LlamaContextOverflowPolicy.Shift;

    /// <summary>Gets or sets how many tokens at the start of a sequence survive a shift. Default: 0 (the beginning-of-sequence token is always kept when the prompt starts with it).</summary>
    public int ShiftKeepTokens { get; set; }

    /// <summary>
    /// Gets or sets whether a request's tokens stay in its sequence's KV cache when it ends (finished, cancelled or
    /// failed: whatever was evaluated), so that a later request whose prompt starts the same way (the next turn of a
    /// conversation) is given that sequence and evaluates only the rest, as llama-server's prompt cache does. Default:
    /// false (a sequence frees its cells as its request ends). Each sequence has its own share of the cache either way,
    /// so keeping them costs no capacity.
    /// </summary>
    public bool ReusePromptCache { get; set; }

    /// <summary>Gets or sets the threads used. Default: null, the number of physical cores.</summary>
    public int? ThreadCount { get; set; }

    /// <inheritdoc cref="LlamaContextOptions.ThreadPolling"/>
    public int ThreadPolling { get; set; }

    /// <inheritdoc cref="LlamaContextOptions.AdaptThreadsToLoad"/>
    public bool AdaptThreadsToLoad { get; set; } = true;

    /// <summary>Gets or sets the seed used when a request's sampling leaves the seed random. Default: null (random).</summary>
    public uint? Seed { get; set; }

    /// <summary>
    /// Gets or sets how long a caller's loop body may hold the scheduler's thread. Callers' loop bodies run on that
    /// thread between decode steps (the fastest hand-off); a body that blocks past this limit while other requests
    /// generate or wait makes the scheduler move to a new thread (checked once per limit, so after one to two limits),
    /// and the other streams go on instead of waiting for it or deadlocking on it. Default: 50 ms.
    /// </summary>
    public TimeSpan CallerStallLimit { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets or sets where the scheduler logs (for example when a caller's loop body blocked it). Default: null, no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    public void Validate()
    {
        Check(nameof(ParallelSequences), ParallelSequences, ParallelSequences is >= 1 and <= 256, "must be between 1 and 256");
        Check(nameof(ContextSizePerSequence), ContextSizePerSequence, ContextSizePerSequence is >= 16 and <= 1 << 20, "must be between 16 and 1048576");
        Check(nameof(PromptChunkSize), PromptChunkSize, PromptChunkSize is >= 1 and <= 1 << 16, "must be between 1 and 65536");
        Check(nameof(MaxQueuedRequests), MaxQueuedRequests, MaxQueuedRequests is >= 1 and <= 1 << 20, "must be between 1 and 1048576");
        Check(nameof(QueueFullBehavior), QueueFullBehavior, Enum.IsDefined(QueueFullBehavior), $"is not a defined {nameof(LlamaQueueFullBehavior)}");
        Check(nameof(OverflowPolicy), OverflowPolicy, Enum.IsDefined(OverflowPolicy), $"is not a defined {nameof(LlamaContextOverflowPolicy)}");
        Check(nameof(ShiftKeepTokens), ShiftKeepTokens, ShiftKeepTokens >= 0, "must be 0 or greater");
        Check(nameof(CallerStallLimit), CallerStallLimit, CallerStallLimit >= TimeSpan.FromMilliseconds(1) && CallerStallLimit <= TimeSpan.FromMinutes(1), "must be between 1 ms and 1 minute");
        Check(nameof(ThreadPolling), ThreadPolling, ThreadPolling is >= 0 and <= 100, "must be between 0 and 100");
        if (ThreadCount is { } threads)
        {
            Check(nameof(ThreadCount), threads, threads is >= 1 and <= 1024, "must be between 1 and 1024");
        }
    }

    private static void Check<T>(string name, T value, bool valid, string rule)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}, but was {value}.");
        }
    }
}
