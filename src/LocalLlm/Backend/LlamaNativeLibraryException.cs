namespace LocalLlm;

/// <summary>The llama.cpp native libraries could not be found or loaded.</summary>
public sealed class LlamaNativeLibraryException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, the RID, and which package to reference.</param>
    /// <param name="probedDirectories">Every directory that was searched.</param>
    /// <param name="innerException">The loader's own exception, if any.</param>
    public LlamaNativeLibraryException(string message, IReadOnlyList<string> probedDirectories, Exception? innerException = null)
        : base(message, innerException)
    {
        ProbedDirectories = probedDirectories;
    }

    /// <summary>Gets every directory that was searched for the native libraries.</summary>
    public IReadOnlyList<string> ProbedDirectories { get; }
}
