namespace LocalLlm;

/// <summary>What a chat does when the conversation no longer fits in the context window.</summary>
public enum LlamaChatHistoryPolicy
{
    /// <summary>Drop the oldest turns, always keeping the system message and the newest message.</summary>
    DropOldest,

    /// <summary>Throw <see cref="LlamaContextOverflowException"/>.</summary>
    Fail,
}
