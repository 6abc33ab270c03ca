namespace LocalLlm;

/// <summary>The weight formats <see cref="LlamaQuantizer"/> can write (llama.cpp's file types).</summary>
public enum LlamaQuantizationType
{
    /// <summary>16-bit floats.</summary>
    F16 = 1,

    /// <summary>4-bit, one scale per 32 weights.</summary>
    Q4_0 = 2,

    /// <summary>4-bit, scale and minimum per 32 weights.</summary>
    Q4_1 = 3,

    /// <summary>8-bit, one scale per 32 weights: nearly lossless.</summary>
    Q8_0 = 7,

    /// <summary>5-bit, one scale per 32 weights.</summary>
    Q5_0 = 8,

    /// <summary>5-bit, scale and minimum per 32 weights.</summary>
    Q5_1 = 9,

    /// <summary>2-bit k-quant.</summary>
    Q2_K = 10,

    /// <summary>3-bit k-quant, small.</summary>
    Q3_K_S = 11,

    /// <summary>3-bit k-quant, medium.</summary>
    Q3_K_M = 12,

    /// <summary>3-bit k-quant, large.</summary>
    Q3_K_L = 13,

    /// <summary>4-bit k-quant, small.</summary>
    Q4_K_S = 14,

    /// <summary>4-bit k-quant, medium: the usual choice for size versus quality.</summary>
    Q4_K_M = 15,

    /// <summary>5-bit k-quant, small.</summary>
    Q5_K_S = 16,

    /// <summary>5-bit k-quant, medium.</summary>
    Q5_K_M = 17,

    /// <summary>6-bit k-quant.</summary>
    Q6_K = 18,

    /// <summary>bfloat16.</summary>
    BF16 = 32,
}
