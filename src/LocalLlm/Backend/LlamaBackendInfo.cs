namespace LocalLlm;

/// <summary>What the llama.cpp runtime loaded: usable as data for a health check.</summary>
/// <param name="NativeLibraryDirectory">The folder the native libraries were loaded from.</param>
/// <param name="LlamaCppVersion">The llama.cpp release the libraries were built from.</param>
/// <param name="Devices">The devices ggml registered, CPU included.</param>
/// <param name="GpuBackendFailures">Why each GPU backend was not used; empty when a GPU is in use.</param>
/// <param name="SystemInfo">llama.cpp's description of the CPU features and backends in use.</param>
public sealed record LlamaBackendInfo(
    string NativeLibraryDirectory,
    string LlamaCppVersion,
    IReadOnlyList<LlamaDevice> Devices,
    IReadOnlyList<string> GpuBackendFailures,
    string SystemInfo)
{
    /// <summary>Gets a value indicating whether a GPU device is available for offloading layers.</summary>
    public bool HasGpu => Devices.Any(d => d.Type is LlamaDeviceType.Gpu or LlamaDeviceType.IntegratedGpu);
}
