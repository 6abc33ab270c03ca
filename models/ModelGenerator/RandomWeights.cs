using System.Text;
using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>
/// Deterministic weights: each tensor draws from its own SplitMix64 stream, seeded from the model seed and the
/// tensor name, so a tensor's values never depend on the order or presence of other tensors.
/// </summary>
internal static class RandomWeights
{
    /// <summary>Normally distributed values with mean 0 and the given standard deviation.</summary>
    public static GgufTensorRowSource Normal(ulong seed, string tensorName, long rowLength, float standardDeviation)
    {
        ulong state = Mix(seed ^ Fnv1a(tensorName));
        long nextRow = 0;
        return (firstRow, destination) =>
        {
            if (firstRow != nextRow)
            {
                throw new InvalidOperationException($"Rows of '{tensorName}' were requested out of order ({firstRow}, expected {nextRow}).");
            }

            for (int i = 0; i < destination.Length; i += 2)
            {
                // Box-Muller: two uniform (0, 1] values give two independent standard normal values.
                double u1 = ((NextUInt64(ref state) >> 11) + 1) * (1.0 / (1UL << 53));
                double u2 = (NextUInt64(ref state) >> 11) * (1.0 / (1UL << 53));
                double radius = Math.Sqrt(-2.0 * Math.Log(u1)) * standardDeviation;
                (double sin, double cos) = Math.SinCos(2.0 * Math.PI * u2);
                destination[i] = (float)(radius * cos);
                if (i + 1 < destination.Length)
                {
                    destination[i + 1] = (float)(radius * sin);
                }
            }

            nextRow += destination.Length / rowLength;
        };
    }

    /// <summary>The same value everywhere (1 for norm weights, 0 for biases).</summary>
    public static GgufTensorRowSource Constant(float value) => (_, destination) => destination.Fill(value);

    private static ulong NextUInt64(ref ulong state) => Mix(state += 0x9E3779B97F4A7C15UL);

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv1a(string text)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }
}
