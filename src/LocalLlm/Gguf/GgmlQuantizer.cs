using System.Buffers.Binary;

namespace LocalLlm.Gguf;

/// <summary>Converts float values to the ggml types <see cref="GgufWriter"/> can write from floats.</summary>
internal static class GgmlQuantizer
{
    private const int QK8_0 = 32;

    public static bool CanConvert(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0;

    /// <summary>Converts <paramref name="source"/> (a whole number of blocks) into <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    public static int Convert(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < source.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], source[i]);
                }

                return source.Length * 4;
            case GgmlType.F16:
                for (int i = 0; i < source.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)source[i]);
                }

                return source.Length * 2;
            case GgmlType.Q8_0:
                return QuantizeQ8_0(source, destination);
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, $"Cannot convert floats to {type}.");
        }
    }

    /// <summary>
    /// Quantizes to Q8_0 exactly as ggml's <c>quantize_row_q8_0_ref</c>: per block of 32, an fp16 scale
    /// <c>d = amax / 127</c> followed by 32 signed bytes <c>round(x / d)</c>, halves rounded away from zero.
    /// </summary>
    public static int QuantizeQ8_0(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int blocks = source.Length / QK8_0;
        for (int b = 0; b < blocks; b++)
        {
            ReadOnlySpan<float> x = source.Slice(b * QK8_0, QK8_0);
            Span<byte> y = destination.Slice(b * (QK8_0 + 2), QK8_0 + 2);
            float amax = 0f;
            foreach (float v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(y, (Half)d);
            for (int j = 0; j < QK8_0; j++)
            {
                y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
            }
        }

        return blocks * (QK8_0 + 2);
    }
}
