using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Native;

internal static partial class NativeLibraryLoader
{
    /// <summary>
    /// Tries each CUDA build present under <paramref name="directory"/>, newest first, and keeps the first that
    /// loads and sees a device. Returns why each one present was not used.
    /// </summary>
    internal static List<string> LoadGpuBackend(string directory)
    {
        var failures = new List<string>();
        foreach ((string folder, string package, string fileName) in GpuBackends)
        {
            string path = Path.Combine(directory, folder, fileName);
            if (!File.Exists(path))
            {
                continue;
            }

            string? failure = TryLoadGpuBackend(path);
            if (failure is null)
            {
                return failures;
            }

            failures.Add($"{package} ({folder}): {failure}");
        }

        if (failures.Count == 0)
        {
            failures.Add("no GPU backend package is referenced (add LocalLlm.Backend.Cuda13 or LocalLlm.Backend.Cuda12 for NVIDIA GPUs, LocalLlm.Backend.Vulkan for others)");
        }

        return failures;
    }

    /// <summary>Loads one GPU backend library; returns null when it registered at least one device, else the reason.</summary>
    internal static string? TryLoadGpuBackend(string path)
    {
        using NativeLog.ErrorCapture capture = NativeLog.CaptureErrors();
        nint registration = NativeMethods.ggml_backend_load(path);
        if (registration == nint.Zero)
        {
            return capture.LastLine is { } reason
                ? Describe(reason)
                : $"ggml could not load {path}";
        }

        if (NativeMethods.ggml_backend_reg_dev_count(registration) == 0)
        {
            NativeMethods.ggml_backend_unload(registration);
            return path.EndsWith("libggml-vulkan.so", StringComparison.Ordinal)
                ? "the library loaded but found no Vulkan GPU (is a driver with Vulkan support installed? mesa-vulkan-drivers on Debian; a software device such as lavapipe is used only when GGML_VK_VISIBLE_DEVICES names it)"
                : "the library loaded but found no CUDA device (is an NVIDIA GPU present and its driver installed?)";
        }

        return null;

        static string Describe(string reason) =>
            reason.Contains("libvulkan", StringComparison.Ordinal) && reason.Contains("cannot open shared object file", StringComparison.Ordinal)
                ? $"{reason.Trim()} (install the Vulkan loader, libvulkan1 on Debian, and a driver)"
                : reason.Contains("cannot open shared object file", StringComparison.Ordinal)
                ? $"{reason.Trim()} (install the matching CUDA runtime: libcudart and libcublas, or the NVIDIA driver for libcuda)"
                : reason.Trim();
    }

    private static LlamaBackendInfo Describe(string directory, IReadOnlyList<string> gpuFailures)
    {
        var devices = new List<LlamaDevice>();
        nuint count = NativeMethods.ggml_backend_dev_count();
        for (nuint i = 0; i < count; i++)
        {
            nint device = NativeMethods.ggml_backend_dev_get(i);
            NativeMethods.ggml_backend_dev_memory(device, out nuint free, out nuint total);
            devices.Add(new LlamaDevice(
                Marshal.PtrToStringUTF8(NativeMethods.ggml_backend_dev_name(device)) ?? "?",
                Marshal.PtrToStringUTF8(NativeMethods.ggml_backend_dev_description(device)) ?? string.Empty,
                Marshal.PtrToStringUTF8(NativeMethods.ggml_backend_reg_name(NativeMethods.ggml_backend_dev_backend_reg(device))) ?? string.Empty,
                NativeMethods.ggml_backend_dev_type(device) switch
                {
                    ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_CPU => LlamaDeviceType.Cpu,
                    ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_GPU => LlamaDeviceType.Gpu,
                    ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_IGPU => LlamaDeviceType.IntegratedGpu,
                    _ => LlamaDeviceType.Accelerator,
                },
                (long)free,
                (long)total));
        }

        bool hasGpu = devices.Any(d => d.Type is LlamaDeviceType.Gpu or LlamaDeviceType.IntegratedGpu);
        return new LlamaBackendInfo(
            directory,
            LlamaCppVersion,
            devices,
            hasGpu ? [] : gpuFailures,
            Marshal.PtrToStringUTF8(NativeMethods.llama_print_system_info()) ?? string.Empty);
    }

    private static void LogBackend(ILogger logger, LlamaBackendInfo info)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        string devices = string.Join("; ", info.Devices.Select(d => $"{d.Name} [{d.Backend}] {d.Description}"));
        LogLoaded(logger, info.LlamaCppVersion, info.NativeLibraryDirectory, devices);
        if (info.GpuBackendFailures.Count > 0)
        {
            string reasons = string.Join("; ", info.GpuBackendFailures);
            LogGpuNotUsed(logger, reasons);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "llama.cpp {Version} loaded from {Directory}; devices: {Devices}")]
    private static partial void LogLoaded(ILogger logger, string version, string directory, string devices);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Running on CPU; GPU backend not used: {Reasons}")]
    private static partial void LogGpuNotUsed(ILogger logger, string reasons);
}
