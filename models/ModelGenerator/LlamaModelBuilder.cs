using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>
/// Lays out a llama-architecture model the way llama.cpp's <c>llama_model_llama::load_arch_tensors</c> reads it,
/// with the Llama 3 tokenizer and the Llama 3.2 Instruct chat template.
/// </summary>
internal static class LlamaModelBuilder
{
    /// <summary>The id of <c>&lt;|eot_id|&gt;</c>, the end of a turn in Llama 3 Instruct, used as EOS as Meta's GGUFs do.</summary>
    public const uint EndOfTurnTokenId = 128009;

    /// <summary>LLAMA_FTYPE_MOSTLY_F16.</summary>
    private const uint FileTypeMostlyF16 = 1;

    public static GgufWriter Build(ModelSpec spec, GgufFile vocabulary, string? chatTemplate)
    {
        var writer = new GgufWriter();
        string arch = spec.Architecture;
        writer.SetMetadata("general.architecture", arch)
            .SetMetadata("general.type", "model")
            .SetMetadata("general.name", $"LocalLlm {spec.Shape} (random weights)")
            .SetMetadata("general.file_type", FileTypeMostlyF16)
            .SetMetadata("general.quantization_version", 2u);

        int vocabSize = vocabulary.GetValue<string[]>("tokenizer.ggml.tokens").Length;
        writer.SetMetadata($"{arch}.vocab_size", (uint)vocabSize)
            .SetMetadata($"{arch}.context_length", (uint)spec.ContextLength)
            .SetMetadata($"{arch}.embedding_length", (uint)spec.EmbeddingLength)
            .SetMetadata($"{arch}.block_count", (uint)spec.BlockCount)
            .SetMetadata($"{arch}.feed_forward_length", (uint)spec.FeedForwardLength)
            .SetMetadata($"{arch}.attention.head_count", (uint)spec.HeadCount)
            .SetMetadata($"{arch}.attention.head_count_kv", (uint)spec.KeyValueHeadCount)
            .SetMetadata($"{arch}.rope.dimension_count", (uint)spec.HeadLength)
            .SetMetadata($"{arch}.rope.freq_base", spec.RopeFreqBase)
            .SetMetadata($"{arch}.attention.layer_norm_rms_epsilon", spec.NormEpsilon);

        ModelTensors.CopyTokenizer(writer, vocabulary);
        string[] tokens = vocabulary.GetValue<string[]>("tokenizer.ggml.tokens");
        if (tokens.Length <= EndOfTurnTokenId || tokens[EndOfTurnTokenId] != "<|eot_id|>")
        {
            throw new InvalidOperationException($"The vocabulary '{vocabulary.FilePath}' has no <|eot_id|> at id {EndOfTurnTokenId}; it is not the Llama 3 vocabulary.");
        }

        writer.SetMetadata("tokenizer.ggml.eos_token_id", EndOfTurnTokenId)
            .SetMetadata("tokenizer.ggml.eot_token_id", EndOfTurnTokenId);
        if (chatTemplate is not null)
        {
            writer.SetMetadata("tokenizer.chat_template", chatTemplate);
        }

        long embd = spec.EmbeddingLength;
        long kvWidth = (long)spec.HeadLength * spec.KeyValueHeadCount;
        ModelTensors.Weight(writer, spec, "token_embd.weight", spec.TokenEmbeddingType, embd, vocabSize);
        for (int i = 0; i < spec.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            ModelTensors.Constant(writer, p + "attn_norm.weight", embd, 1f);
            ModelTensors.Weight(writer, spec, p + "attn_q.weight", spec.WeightType, embd, embd);
            ModelTensors.Weight(writer, spec, p + "attn_k.weight", spec.WeightType, embd, kvWidth);
            ModelTensors.Weight(writer, spec, p + "attn_v.weight", spec.WeightType, embd, kvWidth);
            ModelTensors.Weight(writer, spec, p + "attn_output.weight", spec.WeightType, embd, embd);
            ModelTensors.Constant(writer, p + "ffn_norm.weight", embd, 1f);
            ModelTensors.Weight(writer, spec, p + "ffn_gate.weight", spec.WeightType, embd, spec.FeedForwardLength);
            ModelTensors.Weight(writer, spec, p + "ffn_up.weight", spec.WeightType, embd, spec.FeedForwardLength);
            ModelTensors.Weight(writer, spec, p + "ffn_down.weight", spec.WeightType, spec.FeedForwardLength, embd);
        }

        // No output.weight: the output projection is tied to token_embd, as in Llama 3.2 1B and SmolLM2.
        ModelTensors.Constant(writer, "output_norm.weight", embd, 1f);
        return writer;
    }
}
