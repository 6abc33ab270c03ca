using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>One low-rank update in a generated adapter: its rank and the seed of its random A and B.</summary>
/// <param name="Rank">The rank (rows of A, columns of B).</param>
/// <param name="Seed">Seeds A and B; the same part always gets the same values.</param>
/// <param name="StandardDeviation">Of A's and B's normal values.</param>
public sealed record LoraPart(int Rank, int Seed, float StandardDeviation = 0.05f);

/// <summary>
/// Writes LoRA adapters for the generated models, as llama.cpp's <c>llama_adapter_lora_init</c> reads them:
/// <c>general.type = adapter</c>, <c>adapter.type = lora</c>, and per target tensor <c>W</c> of the model a pair
/// <c>W.lora_a</c> (input width x rank) and <c>W.lora_b</c> (rank x output width) of random values. No alpha is written,
/// so a scale s adds exactly <c>s · B·A·x</c>. Several parts are stacked along the rank, which is what applying them
/// together computes: <c>[B1 B2]·[A1; A2] = B1·A1 + B2·A2</c>.
/// </summary>
public static class LoraAdapterWriter
{
    /// <summary>The tensors an adapter targets by default: each layer's query and value projections and FFN down projection.</summary>
    public static readonly IReadOnlyList<string> DefaultTargets = ["attn_q", "attn_v", "ffn_down"];

    /// <summary>Writes an adapter for a generated shape.</summary>
    /// <param name="path">Where to write the GGUF.</param>
    /// <param name="shape">The generated model the adapter is for (a llama-architecture shape).</param>
    /// <param name="parts">The low-rank updates, stacked along the rank.</param>
    /// <param name="targets">Tensor kinds per layer (<c>attn_q</c>, <c>attn_k</c>, <c>attn_v</c>, <c>attn_output</c>, <c>ffn_up</c>, <c>ffn_gate</c>, <c>ffn_down</c>); null for <see cref="DefaultTargets"/>.</param>
    /// <param name="architecture">The architecture written in the file; null for the shape's (another one makes an adapter llama.cpp refuses).</param>
    /// <param name="inputWidthChange">Added to every A's input width (non-zero makes an adapter of the wrong shape).</param>
    /// <returns><paramref name="path"/>.</returns>
    /// <exception cref="ArgumentException">No part, a rank below 1, or an unknown target.</exception>
    public static string Write(string path, ModelShape shape, IReadOnlyList<LoraPart> parts, IReadOnlyList<string>? targets = null, string? architecture = null, int inputWidthChange = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0 || parts.Any(p => p.Rank < 1))
        {
            throw new ArgumentException("An adapter needs at least one part, each of rank 1 or more.", nameof(parts));
        }

        ModelSpec spec = ModelSpec.For(shape);
        var writer = new GgufWriter();
        writer.SetMetadata("general.architecture", architecture ?? spec.Architecture)
            .SetMetadata("general.type", "adapter")
            .SetMetadata("general.name", $"LocalLlm {spec.Shape} LoRA (random weights)")
            .SetMetadata("adapter.type", "lora");
        int rank = parts.Sum(p => p.Rank);
        for (int layer = 0; layer < spec.BlockCount; layer++)
        {
            foreach (string target in targets ?? DefaultTargets)
            {
                (long input, long output) = Shape(spec, target);
                input += inputWidthChange;
                string name = $"blk.{layer}.{target}.weight";

                // A: rank rows of `input` values, the parts' rows one after another.
                float[] a = new float[input * rank];
                // B: `output` rows of `rank` values, each row the parts' columns side by side.
                float[] b = new float[output * rank];
                int offset = 0;
                foreach (LoraPart part in parts)
                {
                    float[] partA = Values((ulong)part.Seed, name + ".lora_a", input * part.Rank, part.StandardDeviation);
                    float[] partB = Values((ulong)part.Seed, name + ".lora_b", output * part.Rank, part.StandardDeviation);
                    partA.CopyTo(a, offset * input);
                    for (long row = 0; row < output; row++)
                    {
                        Array.Copy(partB, row * part.Rank, b, (row * rank) + offset, part.Rank);
                    }

                    offset += part.Rank;
                }

                writer.AddTensor(name + ".lora_a", [input, rank], GgmlType.F32, a);
                writer.AddTensor(name + ".lora_b", [rank, output], GgmlType.F32, b);
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        writer.WriteTo(path);
        return path;
    }

    private static (long Input, long Output) Shape(ModelSpec spec, string target) => target switch
    {
        "attn_q" or "attn_output" => (spec.EmbeddingLength, spec.EmbeddingLength),
        "attn_k" or "attn_v" => (spec.EmbeddingLength, (long)spec.KeyValueHeadCount * spec.HeadLength),
        "ffn_up" or "ffn_gate" => (spec.EmbeddingLength, spec.FeedForwardLength),
        "ffn_down" => (spec.FeedForwardLength, spec.EmbeddingLength),
        _ => throw new ArgumentException($"Unknown LoRA target '{target}'.", nameof(target)),
    };

    private static float[] Values(ulong seed, string name, long count, float standardDeviation)
    {
        float[] values = new float[count];
        RandomWeights.Normal(seed, name, count, standardDeviation)(0, values);
        return values;
    }
}
