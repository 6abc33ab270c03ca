namespace LocalLlm;

/// <summary>Why a completion ended.</summary>
public enum LlamaFinishReason
{
    /// <summary>The model produced an end-of-generation token, or a stop string matched.</summary>
    Stop,

    /// <summary>The maximum number of tokens was generated.</summary>
    Length,

    /// <summary>The caller cancelled the completion.</summary>
    Cancelled,

    /// <summary>The context window filled up and the overflow policy is <see cref="LlamaContextOverflowPolicy.Stop"/>.</summary>
    ContextFull,
}
