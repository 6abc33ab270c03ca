namespace LocalLlm.Gguf;

/// <summary>
/// Block and byte sizes of each <see cref="GgmlType"/>, as ggml's type traits define them
/// (<c>GGML_QUANT_SIZES</c> in gguf-py's constants.py).
/// </summary>
public static class GgmlTypeExtensions
{
    private const int QK_K = 256;

    /// <summary>Whether <paramref name="type"/> is a ggml type that GGUF files may hold.</summary>
    /// <param name="type">The type to check.</param>
    /// <returns><see langword="true"/> for every named <see cref="GgmlType"/> member; otherwise <see langword="false"/>.</returns>
    public static bool IsKnown(this GgmlType type) => TryGetTraits(type, out _, out _);

    /// <summary>The number of elements one block of <paramref name="type"/> holds (1 for unquantized types).</summary>
    /// <param name="type">The tensor element type.</param>
    /// <returns>The block size in elements.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a known ggml type.</exception>
    public static int GetBlockSize(this GgmlType type) => GetTraits(type).BlockSize;

    /// <summary>The number of bytes one block of <paramref name="type"/> occupies.</summary>
    /// <param name="type">The tensor element type.</param>
    /// <returns>The block size in bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a known ggml type.</exception>
    public static int GetTypeSize(this GgmlType type) => GetTraits(type).TypeSize;

    /// <summary>
    /// The number of bytes a tensor of <paramref name="type"/> with the given dimensions occupies, as
    /// <c>ggml_nbytes</c> computes it for a contiguous tensor.
    /// </summary>
    /// <param name="type">The tensor element type.</param>
    /// <param name="dimensions">The dimensions, innermost (row length) first, as GGUF stores them.</param>
    /// <returns>The size in bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="dimensions"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="type"/> is not a known ggml type, a dimension is negative, or there are more than four.
    /// </exception>
    /// <exception cref="ArgumentException">The row length is not a multiple of the type's block size.</exception>
    /// <exception cref="OverflowException">The size does not fit in 64 bits.</exception>
    public static long GetByteCount(this GgmlType type, IReadOnlyList<long> dimensions)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions.Count, GgufConstants.MaxDimensions, nameof(dimensions));
        var (blockSize, typeSize) = GetTraits(type);
        long elements = 1;
        for (int i = 0; i < dimensions.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dimensions[i], nameof(dimensions));
            elements = checked(elements * dimensions[i]);
        }

        long rowLength = dimensions.Count == 0 ? 1 : dimensions[0];
        if (rowLength % blockSize != 0)
        {
            throw new ArgumentException(
                $"A {type} tensor needs a row length that is a multiple of {blockSize}, but the row length is {rowLength}.",
                nameof(dimensions));
        }

        return checked(elements / blockSize * typeSize);
    }

    private static (int BlockSize, int TypeSize) GetTraits(GgmlType type) =>
        TryGetTraits(type, out int blockSize, out int typeSize)
            ? (blockSize, typeSize)
            : throw new ArgumentOutOfRangeException(nameof(type), type, $"{(uint)type} is not a known ggml type id.");

    internal static bool TryGetTraits(GgmlType type, out int blockSize, out int typeSize)
    {
        (blockSize, typeSize) = type switch
        {
            GgmlType.F32 => (1, 4),
            GgmlType.F16 => (1, 2),
            GgmlType.Q4_0 => (32, 2 + 16),
            GgmlType.Q4_1 => (32, 2 + 2 + 16),
            GgmlType.Q5_0 => (32, 2 + 4 + 16),
            GgmlType.Q5_1 => (32, 2 + 2 + 4 + 16),
            GgmlType.Q8_0 => (32, 2 + 32),
            GgmlType.Q8_1 => (32, 2 + 2 + 32),
            GgmlType.Q2_K => (QK_K, 2 + 2 + (QK_K / 16) + (QK_K / 4)),
            GgmlType.Q3_K => (QK_K, 2 + (QK_K / 4) + (QK_K / 8) + 12),
            GgmlType.Q4_K => (QK_K, 2 + 2 + (QK_K / 2) + 12),
            GgmlType.Q5_K => (QK_K, 2 + 2 + (QK_K / 2) + (QK_K / 8) + 12),
            GgmlType.Q6_K => (QK_K, 2 + (QK_K / 2) + (QK_K / 4) + (QK_K / 16)),
            GgmlType.Q8_K => (QK_K, 4 + QK_K + (QK_K / 8)),
            GgmlType.IQ2_XXS => (QK_K, 2 + (QK_K / 4)),
            GgmlType.IQ2_XS => (QK_K, 2 + (QK_K / 4) + (QK_K / 32)),
            GgmlType.IQ3_XXS => (QK_K, 2 + (QK_K / 4) + (QK_K / 8)),
            GgmlType.IQ1_S => (QK_K, 2 + (QK_K / 8) + (QK_K / 16)),
            GgmlType.IQ4_NL => (32, 2 + 16),
            GgmlType.IQ3_S => (QK_K, 2 + (QK_K / 4) + (QK_K / 8) + (QK_K / 32) + 4),
            GgmlType.IQ2_S => (QK_K, 2 + (QK_K / 4) + (QK_K / 16)),
            GgmlType.IQ4_XS => (QK_K, 2 + 2 + (QK_K / 2) + (QK_K / 64)),
            GgmlType.I8 => (1, 1),
            GgmlType.I16 => (1, 2),
            GgmlType.I32 => (1, 4),
            GgmlType.I64 => (1, 8),
            GgmlType.F64 => (1, 8),
            GgmlType.IQ1_M => (QK_K, (QK_K / 8) + (QK_K / 16) + (QK_K / 32)),
            GgmlType.BF16 => (1, 2),
            GgmlType.TQ1_0 => (QK_K, 2 + (4 * 13)),
            GgmlType.TQ2_0 => (QK_K, 2 + 64),
            GgmlType.MXFP4 => (32, 1 + 16),
            GgmlType.NVFP4 => (64, 4 + 32),
            GgmlType.Q1_0 => (128, 2 + 16),
            GgmlType.Q2_0 => (64, 2 + 16),
            _ => (0, 0),
        };
        return blockSize != 0;
    }
}
