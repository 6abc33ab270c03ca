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

    internal static LlamaModelMetadata Read(SafeLlamaModelHandle model)
    {
        int count = model.MetadataCount;
        var entries = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string key = model.GetMetadataKey(i);
            entries[key] = model.GetMetadataValue(i);
        }

        // llama.cpp aborts the process when asked for per-layer values of a model without layers (vocabulary only).
        int layerCount = model.LayerCount;
        return new LlamaModelMetadata(entries)
        {
            Architecture = entries.GetValueOrDefault("general.architecture", string.Empty),
            Name = entries.GetValueOrDefault("general.name"),
            Description = model.Description,
            FileType = model.FileTypeName,
            ParameterCount = model.ParameterCount,
            SizeInBytes = model.SizeInBytes,
            TrainedContextLength = model.TrainedContextLength,
            EmbeddingSize = model.EmbeddingSize,
            LayerCount = layerCount,
            HeadCount = layerCount > 0 ? model.HeadCount : 0,
            KeyValueHeadCount = layerCount > 0 ? model.KeyValueHeadCount : 0,
            HasEncoder = model.HasEncoder,
            HasDecoder = model.HasDecoder,
            ChatTemplate = model.ChatTemplate,
        };
    }
}
