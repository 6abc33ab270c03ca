using System.Runtime.InteropServices;

namespace LocalLlm.Native;

// What llama.cpp reads from the model's GGUF header and tensors.
internal sealed partial class SafeLlamaModelHandle
{
    /// <summary>Gets the number of scalar metadata entries.</summary>
    public int MetadataCount => NativeMethods.llama_model_meta_count(this);

    /// <summary>Gets llama.cpp's one-line description, e.g. <c>llama 1B Q4_0</c>.</summary>
    public unsafe string Description => NativeText.Read((buffer, size) => NativeMethods.llama_model_desc(this, buffer, size)) ?? string.Empty;

    /// <summary>Gets the name of the file type (quantization), e.g. <c>Q4_0</c>.</summary>
    public string FileTypeName => Marshal.PtrToStringUTF8(NativeMethods.llama_ftype_name(NativeMethods.llama_model_ftype(this))) ?? string.Empty;

    public long ParameterCount => (long)NativeMethods.llama_model_n_params(this);

    public long SizeInBytes => (long)NativeMethods.llama_model_size(this);

    public int TrainedContextLength => NativeMethods.llama_model_n_ctx_train(this);

    public int EmbeddingSize => NativeMethods.llama_model_n_embd(this);

    public int LayerCount => NativeMethods.llama_model_n_layer(this);

    /// <remarks>llama.cpp aborts the process when asked this of a model without layers (vocabulary only).</remarks>
    public int HeadCount => NativeMethods.llama_model_n_head(this);

    /// <remarks>llama.cpp aborts the process when asked this of a model without layers (vocabulary only).</remarks>
    public int KeyValueHeadCount => NativeMethods.llama_model_n_head_kv(this);

    public bool HasEncoder => NativeMethods.llama_model_has_encoder(this);

    public bool HasDecoder => NativeMethods.llama_model_has_decoder(this);

    /// <summary>Gets the default chat template, or null when the model has none.</summary>
    public string? ChatTemplate => Marshal.PtrToStringUTF8(NativeMethods.llama_model_chat_template(this, null));

    /// <summary>Gets a reranker's prompt template (<c>tokenizer.chat_template.rerank</c>, with <c>{query}</c> and <c>{document}</c>), or null.</summary>
    public string? RerankTemplate => Marshal.PtrToStringUTF8(NativeMethods.llama_model_chat_template(this, "rerank"));

    /// <summary>Gets how many scores a classification head gives (rank pooling); 1 for other models.</summary>
    public int ClassifierOutputCount => (int)NativeMethods.llama_model_n_cls_out(this);

    /// <summary>Gets the key of the metadata entry at <paramref name="index"/>.</summary>
    public unsafe string GetMetadataKey(int index) =>
        NativeText.Read((buffer, size) => NativeMethods.llama_model_meta_key_by_index(this, index, buffer, size)) ?? string.Empty;

    /// <summary>Gets the value, as text, of the metadata entry at <paramref name="index"/>.</summary>
    public unsafe string GetMetadataValue(int index) =>
        NativeText.Read((buffer, size) => NativeMethods.llama_model_meta_val_str_by_index(this, index, buffer, size)) ?? string.Empty;
}
