using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace LocalLlm.Native;

/// <summary>
/// The devices a model loads onto when its options name RPC workers or a tensor split: each worker's devices (probed
/// first), then the local GPUs, as llama.cpp orders them (workers at the front, to keep network transfers down).
/// </summary>
internal sealed partial class OffloadDevices
{
    private OffloadDevices(IReadOnlyList<nint> devices, IReadOnlyDictionary<string, string> displayNames)
    {
        Devices = devices;
        DisplayNames = displayNames;
    }

    public IReadOnlyList<nint> Devices { get; }

    /// <summary>ggml's device names (<c>RPC0</c>) to the names LocalLlm shows (<c>host:port#0</c>).</summary>
    public IReadOnlyDictionary<string, string> DisplayNames { get; }

    public static OffloadDevices Choose(string modelPath, LlamaModelOptions options, CancellationToken cancellationToken)
    {
        var devices = new List<nint>();
        var displayNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var described = new List<string>();
        foreach (string endpoint in options.RpcServers)
        {
            try
            {
                LlamaRpcWorkerInfo worker = RpcWorkerProbe.ProbeAsync(endpoint, options.RpcProbeTimeout, cancellationToken).GetAwaiter().GetResult();
                IReadOnlyList<nint> remote = RpcBackend.AddServer(worker.Endpoint);
                if (remote.Count != worker.Devices.Count)
                {
                    throw new LlamaRpcWorkerException(worker.Endpoint, LlamaRpcWorkerFailure.ProtocolError, $"The RPC worker {worker.Endpoint} reported {worker.Devices.Count} devices to the probe and {remote.Count} to llama.cpp.");
                }

                for (int i = 0; i < remote.Count; i++)
                {
                    devices.Add(remote[i]);
                    displayNames[Name(remote[i])] = worker.Devices[i].Name;
                    described.Add(worker.Devices[i].Name);
                }
            }
            catch (LlamaRpcWorkerException ex)
            {
                throw new LlamaModelLoadException(modelPath, LlamaModelLoadFailure.RpcWorkerUnavailable, $"Model '{modelPath}' was not loaded: {ex.Message}", ex);
            }
            catch (LlamaNativeLibraryException ex)
            {
                throw new LlamaModelLoadException(modelPath, LlamaModelLoadFailure.RpcWorkerUnavailable, $"Model '{modelPath}' was not loaded across RPC workers: {ex.Message}", ex);
            }
        }

        foreach (nint local in LocalGpus())
        {
            devices.Add(local);
            described.Add(Name(local));
        }

        if (options.TensorSplit.Count > 0 && options.TensorSplit.Count != devices.Count)
        {
            throw new LlamaModelLoadException(modelPath, LlamaModelLoadFailure.InvalidDeviceSplit,
                $"Model '{modelPath}' was not loaded: TensorSplit has {options.TensorSplit.Count} shares for {devices.Count} devices to offload to ({(described.Count == 0 ? "none: no GPU and no RPC worker" : string.Join(", ", described))}). Give one share per device, in that order.");
        }

        return new OffloadDevices(devices, displayNames);
    }

    /// <summary>Reads llama.cpp's <c>layer N assigned to device X</c> lines into each layer's device, by index.</summary>
    public static IReadOnlyList<string> ReadPlacement(IReadOnlyList<string> lines, OffloadDevices? offload)
    {
        var placed = new SortedDictionary<int, string>();
        foreach (string line in lines)
        {
            Match match = LayerLine().Match(line);
            if (match.Success)
            {
                string device = match.Groups[2].Value;
                placed[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)] = offload?.DisplayNames.GetValueOrDefault(device) ?? device;
            }
        }

        return [.. placed.Values];
    }

    /// <summary>Ranges of layers per device: <c>0-5 on CPU, 6-16 on host:port#0</c>.</summary>
    public static string Describe(IReadOnlyList<string> layerDevices)
    {
        var ranges = new List<string>();
        int start = 0;
        for (int i = 1; i <= layerDevices.Count; i++)
        {
            if (i == layerDevices.Count || layerDevices[i] != layerDevices[start])
            {
                ranges.Add($"{(i - 1 == start ? start.ToString(CultureInfo.InvariantCulture) : $"{start}-{i - 1}")} on {layerDevices[start]}");
                start = i;
            }
        }

        return $"{string.Join(", ", ranges)} (layer {layerDevices.Count - 1} is the output)";
    }

    /// <summary>How many local GPUs a model offloads to (the length of a split without RPC workers).</summary>
    public static int LocalGpuCount()
    {
        NativeLibraryLoader.EnsureInitialized();
        return LocalGpus().Count;
    }

    // llama.cpp's own choice when it is given no list: the discrete GPUs, else the integrated ones.
    private static List<nint> LocalGpus()
    {
        var gpus = new List<nint>();
        var integrated = new List<nint>();
        for (nuint i = 0; i < NativeMethods.ggml_backend_dev_count(); i++)
        {
            nint device = NativeMethods.ggml_backend_dev_get(i);
            switch (NativeMethods.ggml_backend_dev_type(device))
            {
                case ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_GPU:
                    gpus.Add(device);
                    break;
                case ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_IGPU:
                    integrated.Add(device);
                    break;
            }
        }

        return gpus.Count > 0 ? gpus : integrated;
    }

    private static string Name(nint device) => Marshal.PtrToStringUTF8(NativeMethods.ggml_backend_dev_name(device)) ?? "?";

    [GeneratedRegex(@"layer\s+(\d+) assigned to device ([^,\s]+)")]
    private static partial Regex LayerLine();
}
