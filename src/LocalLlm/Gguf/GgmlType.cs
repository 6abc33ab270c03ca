namespace LocalLlm.Gguf;

/// <summary>
/// The element type of a tensor, with the ids ggml assigns (<c>ggml_type</c> in ggml.h). Ids that ggml has
/// retired (4, 5 and 31 to 38) are absent and rejected when read.
/// </summary>
#pragma warning disable CA1707 // The names mirror ggml's type names (Q4_K, IQ2_XXS), which users search for.
public enum GgmlType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,

    /// <summary>16-bit IEEE half-precision float.</summary>
    F16 = 1,

    /// <summary>4-bit quantization, blocks of 32 with one fp16 scale.</summary>
    Q4_0 = 2,

    /// <summary>4-bit quantization, blocks of 32 with fp16 scale and minimum.</summary>
    Q4_1 = 3,

    /// <summary>5-bit quantization, blocks of 32 with one fp16 scale.</summary>
    Q5_0 = 6,

    /// <summary>5-bit quantization, blocks of 32 with fp16 scale and minimum.</summary>
    Q5_1 = 7,

    /// <summary>8-bit quantization, blocks of 32 with one fp16 scale.</summary>
    Q8_0 = 8,

    /// <summary>8-bit quantization, blocks of 32 with fp16 scale and sum (intermediate type).</summary>
    Q8_1 = 9,

    /// <summary>2-bit k-quant, super-blocks of 256.</summary>
    Q2_K = 10,

    /// <summary>3-bit k-quant, super-blocks of 256.</summary>
    Q3_K = 11,

    /// <summary>4-bit k-quant, super-blocks of 256.</summary>
    Q4_K = 12,

    /// <summary>5-bit k-quant, super-blocks of 256.</summary>
    Q5_K = 13,

    /// <summary>6-bit k-quant, super-blocks of 256.</summary>
    Q6_K = 14,

    /// <summary>8-bit k-quant, super-blocks of 256 (intermediate type).</summary>
    Q8_K = 15,

    /// <summary>2.06 bits per weight i-quant.</summary>
    IQ2_XXS = 16,

    /// <summary>2.31 bits per weight i-quant.</summary>
    IQ2_XS = 17,

    /// <summary>3.06 bits per weight i-quant.</summary>
    IQ3_XXS = 18,

    /// <summary>1.56 bits per weight i-quant.</summary>
    IQ1_S = 19,

    /// <summary>4.5 bits per weight non-linear quantization, blocks of 32.</summary>
    IQ4_NL = 20,

    /// <summary>3.44 bits per weight i-quant.</summary>
    IQ3_S = 21,

    /// <summary>2.5 bits per weight i-quant.</summary>
    IQ2_S = 22,

    /// <summary>4.25 bits per weight i-quant.</summary>
    IQ4_XS = 23,

    /// <summary>8-bit signed integer.</summary>
    I8 = 24,

    /// <summary>16-bit signed integer.</summary>
    I16 = 25,

    /// <summary>32-bit signed integer.</summary>
    I32 = 26,

    /// <summary>64-bit signed integer.</summary>
    I64 = 27,

    /// <summary>64-bit float.</summary>
    F64 = 28,

    /// <summary>1.75 bits per weight i-quant.</summary>
    IQ1_M = 29,

    /// <summary>16-bit bfloat.</summary>
    BF16 = 30,

    /// <summary>Ternary quantization, 1.69 bits per weight.</summary>
    TQ1_0 = 34,

    /// <summary>Ternary quantization, 2.06 bits per weight.</summary>
    TQ2_0 = 35,

    /// <summary>MXFP4: blocks of 32 4-bit floats with an E8M0 scale.</summary>
    MXFP4 = 39,

    /// <summary>NVFP4: blocks of 64 4-bit floats with E4M3 scales.</summary>
    NVFP4 = 40,

    /// <summary>1-bit quantization, blocks of 128.</summary>
    Q1_0 = 41,

    /// <summary>2-bit quantization, blocks of 64.</summary>
    Q2_0 = 42,
}
#pragma warning restore CA1707
