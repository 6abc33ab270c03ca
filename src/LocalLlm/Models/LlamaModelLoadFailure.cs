namespace LocalLlm;

/// <summary>Why a model file could not be loaded.</summary>
public enum LlamaModelLoadFailure
{
    /// <summary>The path names a directory, not a file.</summary>
    PathIsDirectory,

    /// <summary>The file is a valid GGUF, but its architecture is not supported by the bundled llama.cpp.</summary>
    UnsupportedArchitecture,

    /// <summary>llama.cpp rejected the file for another reason, given in the message.</summary>
    NativeLoadFailed,
}
