using System.Runtime.InteropServices;

namespace LocalLlm.Native;

internal static unsafe partial class NativeMethods
{
    // Logical library names; NativeLibraryLoader resolves each to a full path in the chosen native directory.
    internal const string LlamaLibrary = "llama";
    internal const string GgmlLibrary = "ggml";
    internal const string GgmlBaseLibrary = "ggml-base";

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_backend_init();

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_print_system_info();

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_log_set(delegate* unmanaged[Cdecl]<ggml_log_level, byte*, nint, void> log_callback, nint user_data);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_supports_mmap();

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_supports_mlock();

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_supports_gpu_offload();

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_max_devices();

    [LibraryImport(LlamaLibrary)]
    internal static partial long llama_time_us();

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial void ggml_log_set(delegate* unmanaged[Cdecl]<ggml_log_level, byte*, nint, void> log_callback, nint user_data);

    [LibraryImport(GgmlLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void ggml_backend_load_all_from_path(string dir_path);

    [LibraryImport(GgmlLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ggml_backend_load(string path);

    [LibraryImport(GgmlLibrary)]
    internal static partial void ggml_backend_unload(nint reg);

    [LibraryImport(GgmlLibrary)]
    internal static partial nuint ggml_backend_dev_count();

    [LibraryImport(GgmlLibrary)]
    internal static partial nint ggml_backend_dev_get(nuint index);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial nint ggml_backend_dev_name(nint device);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial nint ggml_backend_dev_description(nint device);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial ggml_backend_dev_type ggml_backend_dev_type(nint device);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial void ggml_backend_dev_memory(nint device, out nuint free, out nuint total);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial nint ggml_backend_dev_backend_reg(nint device);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial nint ggml_backend_reg_name(nint reg);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial nuint ggml_backend_reg_dev_count(nint reg);

    [LibraryImport(GgmlLibrary)]
    internal static partial nint ggml_backend_dev_by_type(ggml_backend_dev_type type);

    [LibraryImport(GgmlLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ggml_backend_reg_by_name(string name);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial nint ggml_backend_reg_dev_get(nint reg, nuint index);

    [LibraryImport(GgmlBaseLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ggml_backend_reg_get_proc_address(nint reg, string name);

    [LibraryImport(GgmlBaseLibrary)]
    internal static partial void ggml_threadpool_params_init(ggml_threadpool_params* parameters, int n_threads);
}
