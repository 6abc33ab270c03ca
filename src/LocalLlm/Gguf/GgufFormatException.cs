namespace LocalLlm.Gguf;

/// <summary>
/// Thrown when a file is not a GGUF file that llama.cpp can load: its <see cref="Error"/> says why and its
/// message names the file and the values involved.
/// </summary>
public sealed class GgufFormatException : LlamaException
{
    /// <summary>Creates an exception with a default message.</summary>
    public GgufFormatException()
        : this(string.Empty, GgufFormatError.Malformed, "The file is not a valid GGUF file.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What is wrong with the file.</param>
    public GgufFormatException(string message)
        : this(string.Empty, GgufFormatError.Malformed, message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What is wrong with the file.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public GgufFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
        FilePath = string.Empty;
        Error = GgufFormatError.Malformed;
    }

    /// <summary>Creates an exception for a file that failed to read.</summary>
    /// <param name="filePath">The path of the file.</param>
    /// <param name="error">The kind of problem.</param>
    /// <param name="reason">What is wrong, in plain words; the message prefixes it with the path.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public GgufFormatException(string filePath, GgufFormatError error, string reason, Exception? innerException = null)
        : base(FormatMessage(filePath, reason), innerException)
    {
        FilePath = filePath ?? string.Empty;
        Error = error;
    }

    /// <summary>The path of the file that failed to read, as given to the reader.</summary>
    public string FilePath { get; }

    /// <summary>The kind of problem found.</summary>
    public GgufFormatError Error { get; }

    private static string FormatMessage(string? filePath, string reason) =>
        string.IsNullOrEmpty(filePath) ? reason : $"Cannot read GGUF file '{filePath}': {reason}";
}
