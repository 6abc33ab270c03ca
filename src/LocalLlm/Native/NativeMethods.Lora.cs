using System.Runtime.InteropServices;

namespace LocalLlm.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint llama_adapter_lora_init(SafeLlamaModelHandle model, string path_lora);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_adapter_lora_free(nint adapter);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_adapter_meta_count(SafeLoraAdapterHandle adapter);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_adapter_meta_key_by_index(SafeLoraAdapterHandle adapter, int i, byte* buf, nuint buf_size);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_adapter_meta_val_str_by_index(SafeLoraAdapterHandle adapter, int i, byte* buf, nuint buf_size);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_set_adapters_lora(SafeLlamaContextHandle ctx, nint* adapters, nuint n_adapters, float* scales);
}
