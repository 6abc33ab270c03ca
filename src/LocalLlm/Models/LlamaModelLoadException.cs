namespace LocalLlm;

/// <summary>A model file exists but could not be loaded.</summary>
/// <remarks>
/// A missing file throws <see cref="FileNotFoundException"/>, and a file that is not a well-formed GGUF throws
/// <see cref="Gguf.GgufFormatException"/>; this exception covers the rest.
/// </remarks>
public sealed class LlamaModelLoadException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="modelPath">The full path of the model file.</param>
    /// <param name="failure">Why loading failed.</param>
    /// <param name="message">The reason in words, naming the path.</param>
    public LlamaModelLoadException(string modelPath, LlamaModelLoadFailure failure, string message)
        : base(message)
    {
        ModelPath = modelPath;
        Failure = failure;
    }

    /// <summary>Creates the exception with the error behind it.</summary>
    /// <param name="modelPath">The full path of the model file.</param>
    /// <param name="failure">Why loading failed.</param>
    /// <param name="message">The reason in words, naming the path.</param>
    /// <param name="innerException">The error behind it (an <see cref="LlamaRpcWorkerException"/> for a worker that could not be used).</param>
    public LlamaModelLoadException(string modelPath, LlamaModelLoadFailure failure, string message, Exception? innerException)
        : base(message, innerException)
    {
        ModelPath = modelPath;
        Failure = failure;
    }

    /// <summary>Gets the full path of the model file.</summary>
    public string ModelPath { get; }

    /// <summary>Gets why loading failed.</summary>
    public LlamaModelLoadFailure Failure { get; }
}
