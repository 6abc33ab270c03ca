using System.Runtime.InteropServices;

namespace LocalLlm.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary)]
    internal static partial llama_model_params llama_model_default_params();

    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SafeLlamaModelHandle llama_model_load_from_file(string path_model, llama_model_params @params);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_model_free(nint model);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_model_get_vocab(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_n_ctx_train(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_n_embd(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_n_layer(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_model_n_cls_out(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_n_head(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_n_head_kv(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_n_swa(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_meta_count(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_meta_key_by_index(SafeLlamaModelHandle model, int i, byte* buf, nuint buf_size);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_meta_val_str_by_index(SafeLlamaModelHandle model, int i, byte* buf, nuint buf_size);

    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int llama_model_meta_val_str(SafeLlamaModelHandle model, string key, byte* buf, nuint buf_size);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_desc(SafeLlamaModelHandle model, byte* buf, nuint buf_size);

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_ftype llama_model_ftype(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_ftype_name(llama_ftype ftype);

    [LibraryImport(LlamaLibrary)]
    internal static partial ulong llama_model_size(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial ulong llama_model_n_params(SafeLlamaModelHandle model);

    /// <remarks>Returns a pointer owned by the model, or null; never free it.</remarks>
    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint llama_model_chat_template(SafeLlamaModelHandle model, string? name);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_model_has_encoder(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_model_has_decoder(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_model_decoder_start_token(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_model_is_recurrent(SafeLlamaModelHandle model);

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_model_quantize_params llama_model_quantize_default_params();

    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint llama_model_quantize(string fname_inp, string fname_out, in llama_model_quantize_params @params);
}
