namespace LocalLlm;

/// <summary>A prompt does not fit in the context window.</summary>
public sealed class LlamaContextOverflowException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="promptTokens">The prompt's length in tokens.</param>
    /// <param name="contextSize">The context window in tokens.</param>
    public LlamaContextOverflowException(int promptTokens, int contextSize)
        : base($"The prompt is {promptTokens} tokens long but the context holds {contextSize}. " +
               $"Shorten the prompt, create the session with a larger {nameof(LlamaContextOptions)}.{nameof(LlamaContextOptions.ContextSize)}, " +
               $"or set {nameof(LlamaGenerationOptions)}.{nameof(LlamaGenerationOptions.TruncatePrompt)} to keep only its end.")
    {
        PromptTokens = promptTokens;
        ContextSize = contextSize;
    }

    /// <summary>Gets the prompt's length in tokens.</summary>
    public int PromptTokens { get; }

    /// <summary>Gets the context window in tokens.</summary>
    public int ContextSize { get; }
}
