namespace LocalLlm;

/// <summary>A request was refused because the scheduler's waiting queue is full.</summary>
public sealed class LlamaQueueFullException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="capacity">The queue's capacity.</param>
    public LlamaQueueFullException(int capacity)
        : base($"The scheduler's queue already holds {capacity} waiting requests ({nameof(LlamaSchedulerOptions)}.{nameof(LlamaSchedulerOptions.MaxQueuedRequests)}). " +
               $"Retry later, raise the limit, or set {nameof(LlamaSchedulerOptions.QueueFullBehavior)} to {nameof(LlamaQueueFullBehavior.Wait)}.")
    {
        Capacity = capacity;
    }

    /// <summary>Gets the queue's capacity.</summary>
    public int Capacity { get; }
}
