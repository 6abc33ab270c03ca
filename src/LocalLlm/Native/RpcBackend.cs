using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// ggml's RPC backend (libggml-rpc.so from LocalLlm.Backend.Rpc), which ggml loads with the other backends. Its entry
/// points are reached through its registry's <c>get_proc_address</c>, as llama.cpp's own tools reach them.
/// </summary>
internal static unsafe class RpcBackend
{
    public const string RegistryName = "RPC";

    public static nint Function(string name)
    {
        nint registry = NativeMethods.ggml_backend_reg_by_name(RegistryName);
        if (registry == nint.Zero)
        {
            throw new LlamaNativeLibraryException(
                $"llama.cpp's RPC backend (libggml-rpc.so) is not loaded: reference the LocalLlm.Backend.Rpc package, which places it beside the other llama.cpp libraries.",
                [NativeLibraryLoader.Current?.NativeLibraryDirectory ?? string.Empty]);
        }

        nint function = NativeMethods.ggml_backend_reg_get_proc_address(registry, name);
        return function != nint.Zero
            ? function
            : throw new LlamaNativeLibraryException($"llama.cpp's RPC backend has no '{name}': libggml-rpc.so comes from another llama.cpp build.", [NativeLibraryLoader.Current?.NativeLibraryDirectory ?? string.Empty]);
    }

    /// <summary>
    /// The devices of a worker that was probed first: ggml connects to it to count them, and aborts the process when
    /// that fails. ggml keeps one registry per endpoint for the life of the process and connects again when a model
    /// places buffers there.
    /// </summary>
    public static IReadOnlyList<nint> AddServer(string endpoint)
    {
        nint addServer = Function("ggml_backend_rpc_add_server");
        nint text = Marshal.StringToCoTaskMemUTF8(endpoint);
        nint registry;
        try
        {
            registry = ((delegate* unmanaged[Cdecl]<nint, nint>)addServer)(text);
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
        }

        if (registry == nint.Zero)
        {
            return [];
        }

        var devices = new List<nint>();
        for (nuint i = 0; i < NativeMethods.ggml_backend_reg_dev_count(registry); i++)
        {
            devices.Add(NativeMethods.ggml_backend_reg_dev_get(registry, i));
        }

        return devices;
    }
}
