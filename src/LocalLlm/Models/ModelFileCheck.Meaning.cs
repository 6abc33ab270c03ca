using System.Globalization;
using LocalLlm.Gguf;
using Microsoft.Extensions.Logging;

namespace LocalLlm;

// What a well-formed GGUF may still say that llama.cpp asserts on (and so ends the process) instead of rejecting:
// checked here, from the header already read, before llama.cpp sees the file.
internal static partial class ModelFileCheck
{
    private const int LlamaMaxLayers = 512;          // LLAMA_MAX_LAYERS, llama-hparams.h
    private const int TensorAlignment = 32;          // TENSOR_ALIGNMENT, ggml-backend.cpp
    private const int TokenTypeByte = 6;             // LLAMA_TOKEN_TYPE_BYTE

    private static void CheckMeaning(string fullPath, GgufFile gguf)
    {
        if (gguf.Alignment % TensorAlignment != 0)
        {
            throw Rejected(fullPath, LlamaModelLoadFailure.UnsupportedAlignment,
                $"general.alignment is {gguf.Alignment}; llama.cpp needs tensor data aligned to a multiple of {TensorAlignment} bytes");
        }

        string? architecture = gguf.Architecture;
        if (architecture is not null)
        {
            CheckLayers(fullPath, gguf, architecture);
            foreach (string key in new[] { $"{architecture}.attention.layer_norm_rms_epsilon", $"{architecture}.attention.layer_norm_epsilon" })
            {
                if (Number(gguf, key) is { } epsilon && !(double.IsFinite(epsilon) && epsilon >= 0))
                {
                    throw Rejected(fullPath, LlamaModelLoadFailure.InvalidNormEpsilon, $"{key} is {epsilon.ToString(CultureInfo.InvariantCulture)}; it must be a finite number of 0 or more");
                }
            }
        }

        foreach (GgufTensorInfo tensor in gguf.Tensors)
        {
            if (tensor.Name.EndsWith("norm.weight", StringComparison.Ordinal) && tensor.Type != GgmlType.F32)
            {
                throw Rejected(fullPath, LlamaModelLoadFailure.UnsupportedNormType,
                    $"the normalization weight '{tensor.Name}' is stored as {tensor.Type}; llama.cpp applies normalization weights only as F32");
            }
        }

        CheckVocabulary(fullPath, gguf);
    }

    private static void CheckLayers(string fullPath, GgufFile gguf, string architecture)
    {
        string key = $"{architecture}.block_count";
        if (Number(gguf, key) is { } layers && layers is < 1 or > LlamaMaxLayers)
        {
            throw Rejected(fullPath, LlamaModelLoadFailure.InvalidLayerCount, $"{key} is {layers.ToString(CultureInfo.InvariantCulture)}; llama.cpp loads 1 to {LlamaMaxLayers} layers");
        }

        string nextTokenKey = $"{architecture}.nextn_predict_layers";
        if (Number(gguf, nextTokenKey) is { } nextToken && Number(gguf, key) is { } all && (nextToken < 0 || nextToken > all))
        {
            throw Rejected(fullPath, LlamaModelLoadFailure.InvalidLayerCount, $"{nextTokenKey} is {nextToken.ToString(CultureInfo.InvariantCulture)}, more than the model's {all.ToString(CultureInfo.InvariantCulture)} layers ({key})");
        }
    }

    private static void CheckVocabulary(string fullPath, GgufFile gguf)
    {
        if (!gguf.TryGetValue("tokenizer.ggml.tokens", out GgufMetadataEntry? tokensEntry) || tokensEntry.Value is not string[] tokens)
        {
            return;
        }

        var ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
        {
            // llama.cpp renames an empty token "[EMPTY_<id>]", which must not collide with a token of that text either.
            string token = tokens[id].Length == 0 ? $"[EMPTY_{id}]" : tokens[id];
            if (!ids.TryAdd(token, id))
            {
                throw Rejected(fullPath, LlamaModelLoadFailure.DuplicateToken,
                    $"tokenizer.ggml.tokens holds '{token}' twice (ids {ids[token]} and {id}); every token must be a distinct string");
            }
        }

        string? model = gguf.TryGetValue("tokenizer.ggml.model", out GgufMetadataEntry? modelEntry) ? modelEntry.Value as string : null;
        if (model == "llama")
        {
            for (int value = 0; value < 256; value++)
            {
                string byteToken = $"<0x{value:X2}>";
                if (!ids.ContainsKey(byteToken))
                {
                    throw Rejected(fullPath, LlamaModelLoadFailure.MissingByteTokens,
                        $"tokenizer.ggml.model is 'llama' (SentencePiece), but tokenizer.ggml.tokens has no byte token '{byteToken}', which SentencePiece's byte fallback needs (is the vocabulary another kind?)");
                }
            }
        }
        else if (model == "bert" && gguf.TryGetValue("tokenizer.ggml.token_type", out GgufMetadataEntry? typesEntry) && typesEntry.Value is int[] types)
        {
            int byteTokenId = Array.IndexOf(types, TokenTypeByte);
            if (byteTokenId >= 0)
            {
                throw Rejected(fullPath, LlamaModelLoadFailure.TokenizerMismatch,
                    $"tokenizer.ggml.model is 'bert' (WordPiece), but token {byteTokenId} is a byte token (tokenizer.ggml.token_type 6), which WordPiece cannot decode (is the vocabulary SentencePiece?)");
            }
        }
    }

    // Values llama.cpp loads without complaint (or with a warning on its own log channel only) but that say the file
    // is damaged or mislabelled: loading goes on, and the warning names the key.
    private static void WarnAboutNonsense(string fullPath, GgufFile gguf, ILogger logger)
    {
        if (gguf.Architecture is { } architecture && Number(gguf, $"{architecture}.context_length") is 0)
        {
            LogSuspiciousValue(logger, fullPath, $"{architecture}.context_length", "is 0: the model declares no trained context length, so a context without a ContextSize gets LocalLlm's default size");
        }

        int tokenCount = gguf.TryGetValue("tokenizer.ggml.tokens", out GgufMetadataEntry? tokens) && tokens.Value is string[] list ? list.Length : 0;
        foreach (GgufMetadataEntry entry in gguf.Metadata)
        {
            if (entry.Key.StartsWith("tokenizer.ggml.", StringComparison.Ordinal) && entry.Key.EndsWith("_token_id", StringComparison.Ordinal)
                && Number(gguf, entry.Key) is { } id && tokenCount > 0 && id >= tokenCount)
            {
                LogSuspiciousValue(logger, fullPath, entry.Key, $"is {id.ToString(CultureInfo.InvariantCulture)}, outside the vocabulary of {tokenCount} tokens: llama.cpp ignores it and uses its default for that token");
            }
        }

        if (gguf.TryGetValue("tokenizer.ggml.scores", out GgufMetadataEntry? scoresEntry) && scoresEntry.Value is float[] scores)
        {
            int first = Array.FindIndex(scores, score => !float.IsFinite(score));
            if (first >= 0)
            {
                int count = scores.Count(score => !float.IsFinite(score));
                LogSuspiciousValue(logger, fullPath, "tokenizer.ggml.scores", $"holds {count} values that are not finite numbers (the first for token {first}): tokenization that compares scores will not match the model's training");
            }
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Model '{ModelPath}': {MetadataKey} {Problem}.")]
    private static partial void LogSuspiciousValue(ILogger logger, string modelPath, string metadataKey, string problem);

    /// <summary>A numeric metadata value as a double, or null when the key is absent or not a number.</summary>
    private static double? Number(GgufFile gguf, string key) =>
        gguf.TryGetValue(key, out GgufMetadataEntry? entry)
            ? entry.Value switch
            {
                byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v,
                ulong v => v, long v => v, float v => v, double v => v,
                _ => null,
            }
            : null;

    private static LlamaModelLoadException Rejected(string fullPath, LlamaModelLoadFailure failure, string reason) =>
        new(fullPath, failure, $"Cannot load model '{fullPath}': {reason}. llama.cpp would stop the process on this file, so LocalLlm refuses it.");
}
