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

    /// <summary>
    /// The devices a worker serves, as llama.cpp's rpc-server chooses them: those named (by ggml name, any case), else
    /// every GPU, else the CPU. Null when a named device does not exist.
    /// </summary>
    public static IReadOnlyList<(string Name, nint Device)>? ChooseServedDevices(IList<string> names)
    {
        var all = new List<(string Name, nint Device, ggml_backend_dev_type Type)>();
        for (nuint i = 0; i < NativeMethods.ggml_backend_dev_count(); i++)
        {
            nint device = NativeMethods.ggml_backend_dev_get(i);
            all.Add((Marshal.PtrToStringUTF8(NativeMethods.ggml_backend_dev_name(device)) ?? string.Empty, device, NativeMethods.ggml_backend_dev_type(device)));
        }

        if (names.Count > 0)
        {
            var chosen = new List<(string, nint)>();
            foreach (string name in names)
            {
                (string Name, nint Device, ggml_backend_dev_type _) found = all.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
                if (found.Device == nint.Zero)
                {
                    return null;
                }

                chosen.Add((found.Name, found.Device));
            }

            return chosen;
        }

        List<(string, nint)> accelerators = [.. all.Where(d => d.Type is not ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_CPU and not ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_ACCEL).Select(d => (d.Name, d.Device))];
        return accelerators.Count > 0 ? accelerators : [.. all.Where(d => d.Type == ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_CPU).Take(1).Select(d => (d.Name, d.Device))];
    }

    /// <summary>Runs ggml's RPC server loop on the calling thread; it returns only when the server could not listen.</summary>
    public static void StartServer(string endpoint, string? cacheDirectory, int threads, IReadOnlyList<(string Name, nint Device)> devices)
    {
        nint startServer = Function("ggml_backend_rpc_start_server");
        nint[] list = [.. devices.Select(d => d.Device)];
        nint endpointText = Marshal.StringToCoTaskMemUTF8(endpoint);
        nint cacheText = cacheDirectory is null ? nint.Zero : Marshal.StringToCoTaskMemUTF8(cacheDirectory);
        try
        {
            fixed (nint* pointers = list)
            {
                ((delegate* unmanaged[Cdecl]<nint, nint, nuint, nuint, nint*, void>)startServer)(endpointText, cacheText, (nuint)threads, (nuint)list.Length, pointers);
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(endpointText);
            Marshal.FreeCoTaskMem(cacheText);
        }
    }
}
