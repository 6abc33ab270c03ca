using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>
/// Lays out a bert-architecture embedding model the way llama.cpp's <c>llama_model_bert::load_arch_tensors</c>
/// reads it, with the bge WordPiece tokenizer and mean pooling.
/// </summary>
internal static class BertModelBuilder
{
    /// <summary>LLAMA_POOLING_TYPE_MEAN.</summary>
    public const uint MeanPooling = 1;

    /// <summary>LLAMA_POOLING_TYPE_RANK: the first token's state through the classification head.</summary>
    public const uint RankPooling = 4;

    private const uint TokenTypeCount = 2;
    private const uint FileTypeMostlyF16 = 1;

    public static GgufWriter Build(ModelSpec spec, GgufFile vocabulary)
    {
        var writer = new GgufWriter();
        string arch = spec.Architecture;
        writer.SetMetadata("general.architecture", arch)
            .SetMetadata("general.type", "model")
            .SetMetadata("general.name", $"LocalLlm {spec.Shape} (random weights)")
            .SetMetadata("general.file_type", FileTypeMostlyF16)
            .SetMetadata($"{arch}.context_length", (uint)spec.ContextLength)
            .SetMetadata($"{arch}.embedding_length", (uint)spec.EmbeddingLength)
            .SetMetadata($"{arch}.block_count", (uint)spec.BlockCount)
            .SetMetadata($"{arch}.feed_forward_length", (uint)spec.FeedForwardLength)
            .SetMetadata($"{arch}.attention.head_count", (uint)spec.HeadCount)
            .SetMetadata($"{arch}.attention.layer_norm_epsilon", spec.NormEpsilon)
            .SetMetadata($"{arch}.attention.causal", false)
            .SetMetadata($"{arch}.pooling_type", spec.Shape == ModelShape.Reranker ? RankPooling : MeanPooling);

        int vocabSize = ModelTensors.CopyTokenizer(writer, vocabulary);
        if (!vocabulary.ContainsKey("tokenizer.ggml.token_type_count"))
        {
            writer.SetMetadata("tokenizer.ggml.token_type_count", TokenTypeCount);
        }

        long embd = spec.EmbeddingLength;
        long ff = spec.FeedForwardLength;
        ModelTensors.Weight(writer, spec, "token_embd.weight", spec.TokenEmbeddingType, embd, vocabSize);
        ModelTensors.Weight(writer, spec, "token_types.weight", GgmlType.F32, embd, TokenTypeCount);
        ModelTensors.Weight(writer, spec, "position_embd.weight", GgmlType.F32, embd, spec.ContextLength);
        ModelTensors.Constant(writer, "token_embd_norm.weight", embd, 1f);
        ModelTensors.Constant(writer, "token_embd_norm.bias", embd, 0f);
        for (int i = 0; i < spec.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            foreach (string projection in new[] { "attn_q", "attn_k", "attn_v", "attn_output" })
            {
                ModelTensors.Weight(writer, spec, $"{p}{projection}.weight", spec.WeightType, embd, embd);
                ModelTensors.Constant(writer, $"{p}{projection}.bias", embd, 0f);
            }

            ModelTensors.Constant(writer, p + "attn_output_norm.weight", embd, 1f);
            ModelTensors.Constant(writer, p + "attn_output_norm.bias", embd, 0f);
            ModelTensors.Weight(writer, spec, p + "ffn_up.weight", spec.WeightType, embd, ff);
            ModelTensors.Constant(writer, p + "ffn_up.bias", ff, 0f);
            ModelTensors.Weight(writer, spec, p + "ffn_down.weight", spec.WeightType, ff, embd);
            ModelTensors.Constant(writer, p + "ffn_down.bias", embd, 0f);
            ModelTensors.Constant(writer, p + "layer_output_norm.weight", embd, 1f);
            ModelTensors.Constant(writer, p + "layer_output_norm.bias", embd, 0f);
        }

        if (spec.Shape == ModelShape.Reranker)
        {
            // RoBERTa's classification head, as llama.cpp's rank pooling applies it: tanh(cls x + b), then one score.
            ModelTensors.Weight(writer, spec, "cls.weight", GgmlType.F32, embd, embd);
            ModelTensors.Constant(writer, "cls.bias", embd, 0f);
            ModelTensors.Weight(writer, spec, "cls.output.weight", GgmlType.F32, embd, 1);
            ModelTensors.Constant(writer, "cls.output.bias", 1, 0f);
        }

        return writer;
    }
}
