namespace LocalLlm;

/// <summary>The element type of the KV cache: smaller types fit longer contexts in the same memory.</summary>
public enum LlamaKvCacheType
{
    /// <summary>16-bit floats (llama.cpp's default).</summary>
    F16 = 1,

    /// <summary>8-bit quantized: half the memory of F16, nearly lossless.</summary>
    Q8_0 = 8,

    /// <summary>4-bit quantized: a quarter of the memory of F16.</summary>
    Q4_0 = 2,
}
