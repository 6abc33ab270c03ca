using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>Adds random weight matrices and constant norm or bias vectors to a writer, and copies a vocabulary.</summary>
internal static class ModelTensors
{
    /// <summary>A weight of the given shape (innermost first) with deterministic normal values.</summary>
    public static void Weight(GgufWriter writer, ModelSpec spec, string name, GgmlType type, params long[] dimensions) =>
        writer.AddTensor(name, dimensions, type, RandomWeights.Normal(spec.Seed, name, dimensions[0], ModelSpec.WeightStandardDeviation));

    /// <summary>An F32 vector holding one value everywhere: 1 for norm weights, 0 for biases.</summary>
    public static void Constant(GgufWriter writer, string name, long length, float value) =>
        writer.AddTensor(name, [length], GgmlType.F32, RandomWeights.Constant(value));

    /// <summary>Copies every <c>tokenizer.*</c> entry of the vocabulary file, in its order.</summary>
    /// <returns>The number of tokens.</returns>
    public static int CopyTokenizer(GgufWriter writer, GgufFile vocabulary)
    {
        foreach (GgufMetadataEntry entry in vocabulary.Metadata)
        {
            if (entry.Key.StartsWith("tokenizer.", StringComparison.Ordinal))
            {
                writer.SetMetadata(entry);
            }
        }

        return vocabulary.GetValue<string[]>("tokenizer.ggml.tokens").Length;
    }
}
