namespace LocalLlm;

/// <summary>What happens when generation fills the context window.</summary>
public enum LlamaContextOverflowPolicy
{
    /// <summary>
    /// Keep the first <see cref="LlamaContextOptions.ShiftKeepTokens"/> tokens, discard half of the rest from the
    /// KV cache, and continue generating (llama.cpp's context shift).
    /// </summary>
    Shift,

    /// <summary>Stop generating; the completion finishes with <see cref="LlamaFinishReason.ContextFull"/>.</summary>
    Stop,
}
