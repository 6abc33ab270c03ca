namespace LocalLlm;

/// <summary>
/// The base of every exception LocalLlm throws for a failure in llama.cpp or in the files it reads.
/// </summary>
/// <remarks>Argument validation uses the standard <see cref="ArgumentException"/> family instead.</remarks>
public class LlamaException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public LlamaException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What failed, the value involved, and what to do.</param>
    public LlamaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What failed, the value involved, and what to do.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public LlamaException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
