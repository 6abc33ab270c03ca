using System.Runtime.InteropServices;
using System.Text;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>What a loaded model says about itself.</summary>
public sealed class LlamaModelMetadata
{
    private LlamaModelMetadata(IReadOnlyDictionary<string, string> entries)
    {
        Entries = entries;
    }

    /// <summary>Gets the model architecture (<c>general.architecture</c>), e.g. <c>llama</c>.</summary>
    public string Architecture { get; private init; } = string.Empty;

    /// <summary>Gets the model name (<c>general.name</c>), or null when the file has none.</summary>
    public string? Name { get; private init; }

    /// <summary>Gets llama.cpp's one-line description, e.g. <c>llama 1B Q4_0</c>.</summary>
    public string Description { get; private init; } = string.Empty;

    /// <summary>Gets the file type (quantization), e.g. <c>Q4_0</c> or <c>F16</c>.</summary>
    public string FileType { get; private init; } = string.Empty;

    /// <summary>Gets the number of parameters.</summary>
    public long ParameterCount { get; private init; }

    /// <summary>Gets the total size of the model's tensors in bytes.</summary>
    public long SizeInBytes { get; private init; }

    /// <summary>Gets the context length the model was trained with.</summary>
    public int TrainedContextLength { get; private init; }

    /// <summary>Gets the embedding (hidden) size.</summary>
    public int EmbeddingSize { get; private init; }

    /// <summary>Gets the number of layers.</summary>
    public int LayerCount { get; private init; }

    /// <summary>Gets the number of attention heads.</summary>
    public int HeadCount { get; private init; }

    /// <summary>Gets the number of key/value heads (fewer than <see cref="HeadCount"/> with grouped-query attention).</summary>
    public int KeyValueHeadCount { get; private init; }

    /// <summary>Gets a value indicating whether the model has an encoder (e.g. T5, BERT-style embedding models).</summary>
    public bool HasEncoder { get; private init; }

    /// <summary>Gets a value indicating whether the model has a decoder that generates text.</summary>
    public bool HasDecoder { get; private init; }

    /// <summary>Gets the default chat template (<c>tokenizer.chat_template</c>), or null when the model has none.</summary>
    public string? ChatTemplate { get; private init; }

    /// <summary>
    /// Gets every scalar metadata key and its value as text. Array values (such as the token list) are not
    /// included; read them with <see cref="Gguf.GgufFile"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Entries { get; }

    internal static unsafe LlamaModelMetadata Read(SafeLlamaModelHandle model)
    {
        int count = NativeMethods.llama_model_meta_count(model);
        var entries = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            int index = i;
            string key = ReadString((buffer, size) => NativeMethods.llama_model_meta_key_by_index(model, index, buffer, size));
            string value = ReadString((buffer, size) => NativeMethods.llama_model_meta_val_str_by_index(model, index, buffer, size));
            entries[key] = value;
        }

        // llama.cpp aborts the process when asked for per-layer values of a model without layers (vocabulary only).
        int layerCount = NativeMethods.llama_model_n_layer(model);
        return new LlamaModelMetadata(entries)
        {
            Architecture = entries.GetValueOrDefault("general.architecture", string.Empty),
            Name = entries.GetValueOrDefault("general.name"),
            Description = ReadString((buffer, size) => NativeMethods.llama_model_desc(model, buffer, size)),
            FileType = Marshal.PtrToStringUTF8(NativeMethods.llama_ftype_name(NativeMethods.llama_model_ftype(model))) ?? string.Empty,
            ParameterCount = (long)NativeMethods.llama_model_n_params(model),
            SizeInBytes = (long)NativeMethods.llama_model_size(model),
            TrainedContextLength = NativeMethods.llama_model_n_ctx_train(model),
            EmbeddingSize = NativeMethods.llama_model_n_embd(model),
            LayerCount = layerCount,
            HeadCount = layerCount > 0 ? NativeMethods.llama_model_n_head(model) : 0,
            KeyValueHeadCount = layerCount > 0 ? NativeMethods.llama_model_n_head_kv(model) : 0,
            HasEncoder = NativeMethods.llama_model_has_encoder(model),
            HasDecoder = NativeMethods.llama_model_has_decoder(model),
            ChatTemplate = Marshal.PtrToStringUTF8(NativeMethods.llama_model_chat_template(model, null)),
        };
    }

    private unsafe delegate int StringReader(byte* buffer, nuint size);

    // llama.cpp returns the full length even when the buffer was too small, so one retry always suffices.
    private static unsafe string ReadString(StringReader read)
    {
        Span<byte> small = stackalloc byte[256];
        int length;
        fixed (byte* buffer = small)
        {
            length = read(buffer, (nuint)small.Length);
            if (length < 0)
            {
                return string.Empty;
            }

            if (length < small.Length)
            {
                return Encoding.UTF8.GetString(small[..length]);
            }
        }

        byte[] large = new byte[length + 1];
        fixed (byte* buffer = large)
        {
            length = read(buffer, (nuint)large.Length);
        }

        return Encoding.UTF8.GetString(large, 0, Math.Max(0, Math.Min(length, large.Length - 1)));
    }
}
