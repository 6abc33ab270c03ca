namespace LocalLlm;

/// <summary>What a request does when the scheduler's waiting queue is full.</summary>
public enum LlamaQueueFullBehavior
{
    /// <summary>Wait (cancellably) until a place in the queue frees up.</summary>
    Wait,

    /// <summary>Fail at once with <see cref="LlamaQueueFullException"/>.</summary>
    Fail,
}
