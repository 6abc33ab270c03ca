namespace LocalLlm.Gguf;

/// <summary>Why a file could not be read as GGUF; carried by <see cref="GgufFormatException.Error"/>.</summary>
public enum GgufFormatError
{
    /// <summary>The path names a directory, not a file.</summary>
    NotAFile,

    /// <summary>The file is empty.</summary>
    EmptyFile,

    /// <summary>The file does not start with the GGUF magic bytes.</summary>
    NotGguf,

    /// <summary>The file is GGUF, but of a version other than 2 or 3 (the only ones llama.cpp loads).</summary>
    UnsupportedVersion,

    /// <summary>
    /// The file ends early: in the header, the metadata or the tensor table, or before the end of a tensor's data.
    /// </summary>
    Truncated,

    /// <summary>
    /// The file holds impossible values: counts or lengths larger than the file, an unknown value type or ggml type,
    /// a bad alignment, or a tensor that breaks llama.cpp's rules.
    /// </summary>
    Malformed,
}
