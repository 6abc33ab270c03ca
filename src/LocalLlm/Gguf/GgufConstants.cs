namespace LocalLlm.Gguf;

/// <summary>Constants of the GGUF format and of llama.cpp's GGUF loader (ggml/src/gguf.cpp).</summary>
internal static class GgufConstants
{
    /// <summary>"GGUF" read as a little-endian 32-bit integer.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The version this library writes.</summary>
    public const uint Version = 3;

    /// <summary>The alignment of the data section and of every tensor when general.alignment is absent.</summary>
    public const uint DefaultAlignment = 32;

    /// <summary>The metadata key that overrides <see cref="DefaultAlignment"/>.</summary>
    public const string AlignmentKey = "general.alignment";

    /// <summary>The metadata key naming the model architecture.</summary>
    public const string ArchitectureKey = "general.architecture";

    /// <summary>The most dimensions a ggml tensor has (GGML_MAX_DIMS).</summary>
    public const int MaxDimensions = 4;

    /// <summary>Tensor names must be shorter than this many bytes (GGML_MAX_NAME).</summary>
    public const int MaxTensorNameBytes = 64;

    /// <summary>llama.cpp refuses strings longer than this (GGUF_MAX_STRING_LENGTH).</summary>
    public const long MaxStringLength = 1L << 30;

    /// <summary>llama.cpp refuses arrays with more elements than this (GGUF_MAX_ARRAY_ELEMENTS).</summary>
    public const long MaxArrayElements = 1L << 30;
}
