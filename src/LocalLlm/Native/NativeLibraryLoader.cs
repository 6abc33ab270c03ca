using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Native;

/// <summary>
/// The one piece of process-wide state: finds the llama.cpp libraries, registers this assembly's import
/// resolver, loads ggml's backends (best CPU variant; CUDA when its library loads and a device exists)
/// and calls <c>llama_backend_init</c>, exactly once.
/// </summary>
internal static partial class NativeLibraryLoader
{
    internal const string LlamaCppVersion = "v0.5.0";
    internal const string LlamaFileName = "libllama." + LlamaCppVersion + ".so";
    internal const string GgmlFileName = "libggml." + LlamaCppVersion + ".so";
    internal const string GgmlBaseFileName = "libggml-base.so";
    internal const string ChatLayerFileName = "liblocalllm-chat.so";
    internal const string DirectoryEnvironmentVariable = "LOCALLLM_NATIVE_DIRECTORY";

    // Newest CUDA first: a machine with both runtimes gets the newer build; Vulkan serves the GPUs CUDA does not.
    internal static readonly (string Folder, string Package, string FileName)[] GpuBackends =
    [
        ("cuda13", "LocalLlm.Backend.Cuda13", "libggml-cuda.so"),
        ("cuda12", "LocalLlm.Backend.Cuda12", "libggml-cuda.so"),
        ("vulkan", "LocalLlm.Backend.Vulkan", "libggml-vulkan.so"),
    ];

    private static readonly Lock s_gate = new();
    private static LlamaBackendInfo? s_info;
    private static nint s_llama;
    private static nint s_ggml;
    private static nint s_ggmlBase;
    private static nint s_chatLayer;
    private static string? s_chatLayerFailure;

    public static LlamaBackendInfo? Current => Volatile.Read(ref s_info);

    public static LlamaBackendInfo EnsureInitialized() => Current ?? Initialize(new LlamaBackendOptions());

    public static LlamaBackendInfo Initialize(LlamaBackendOptions options)
    {
        lock (s_gate)
        {
            if (s_info is not null)
            {
                if (options.NativeLibraryDirectory is { } requested &&
                    !string.Equals(Path.GetFullPath(requested).TrimEnd('/'), s_info.NativeLibraryDirectory.TrimEnd('/'), StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"llama.cpp is already loaded from '{s_info.NativeLibraryDirectory}' and cannot be reloaded from '{requested}' in the same process. " +
                        "Call LlamaBackend.Initialize before loading any model.");
                }

                NativeLog.SetLoggerFactory(options.LoggerFactory);
                return s_info;
            }

            ILogger logger = (ILogger?)options.LoggerFactory?.CreateLogger(typeof(LlamaBackend).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
            string directory = LoadLibraries(options.NativeLibraryDirectory);
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);
            LoadChatLayer(directory);
            NativeLog.Install(options.LoggerFactory);

            NativeMethods.ggml_backend_load_all_from_path(directory);
            List<string> gpuFailures = options.EnableGpu ? LoadGpuBackend(directory) : ["GPU backends disabled by LlamaBackendOptions.EnableGpu = false"];
            NativeMethods.llama_backend_init();

            LlamaBackendInfo info = Describe(directory, gpuFailures);
            if (!info.Devices.Any(d => d.Type == LlamaDeviceType.Cpu))
            {
                throw new LlamaNativeLibraryException(
                    $"llama.cpp loaded from '{directory}' but no CPU backend could be loaded: none of its libggml-cpu-*.so variants runs on this processor. " +
                    $"Reference the LocalLlm.Backend.Cpu package (RID {RuntimeInformation.RuntimeIdentifier}).",
                    [directory]);
            }

            LogBackend(logger, info);
            Volatile.Write(ref s_info, info);
            return info;
        }
    }

    /// <summary>The directories searched, in order, when no explicit directory is configured.</summary>
    internal static IReadOnlyList<string> CandidateDirectories(string? explicitDirectory)
    {
        if (explicitDirectory is not null)
        {
            return [Path.GetFullPath(explicitDirectory)];
        }

        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(DirectoryEnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            candidates.Add(Path.GetFullPath(fromEnvironment));
        }

        // A RID-specific app reports its own RID (linux-musl-arm64, ubuntu.24.04-x64, ...); the packages' folders are
        // named for the portable RID of the process's architecture, which a framework-dependent app also reports.
        foreach (string? rid in new[] { RuntimeInformation.RuntimeIdentifier, PortableRuntimeIdentifier(RuntimeInformation.ProcessArchitecture) })
        {
            if (rid is not null)
            {
                candidates.Add(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native")));
            }
        }

        candidates.Add(Path.GetFullPath(AppContext.BaseDirectory));
        return candidates.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The runtimes folder LocalLlm's native packages use for a Linux process of this architecture, or null
    /// where they ship none.</summary>
    internal static string? PortableRuntimeIdentifier(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "linux-x64",
        Architecture.Arm64 => "linux-arm64",
        _ => null,
    };

    private static string LoadLibraries(string? explicitDirectory)
    {
        IReadOnlyList<string> candidates = CandidateDirectories(explicitDirectory);
        if (!OperatingSystem.IsLinux() || PortableRuntimeIdentifier(RuntimeInformation.ProcessArchitecture) is null)
        {
            throw new LlamaNativeLibraryException(
                $"LocalLlm's native backends are built for linux-x64 and linux-arm64; this process runs on RID {RuntimeInformation.RuntimeIdentifier}. " +
                "Windows and macOS need their own builds of llama.cpp and of LocalLlm's shims; see the README's platform table.",
                candidates);
        }

        string? directory = candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, LlamaFileName)));
        if (directory is null)
        {
            throw new LlamaNativeLibraryException(
                $"Could not find {LlamaFileName} (llama.cpp {LlamaCppVersion}) for RID {RuntimeInformation.RuntimeIdentifier}. " +
                $"Searched: {string.Join(", ", candidates)}. " +
                "Reference the LocalLlm.Backend.Cpu package (or LocalLlm.Backend.Cuda12 / LocalLlm.Backend.Cuda13 for NVIDIA GPUs), " +
                $"or point LlamaBackendOptions.NativeLibraryDirectory or the {DirectoryEnvironmentVariable} environment variable at a folder holding {LlamaFileName}.",
                candidates);
        }

        try
        {
            // libllama's RUNPATH is $ORIGIN, so its dependencies resolve from the same folder; loading the
            // dependencies first by full path makes sure those exact files are the ones used.
            s_ggmlBase = NativeLibrary.Load(Path.Combine(directory, GgmlBaseFileName));
            s_ggml = NativeLibrary.Load(Path.Combine(directory, GgmlFileName));
            s_llama = NativeLibrary.Load(Path.Combine(directory, LlamaFileName));
        }
        catch (DllNotFoundException ex)
        {
            throw new LlamaNativeLibraryException(
                $"Found llama.cpp in '{directory}' but could not load it on RID {RuntimeInformation.RuntimeIdentifier}: {ex.Message} " +
                "Reinstall the LocalLlm.Backend.Cpu package; the libraries need glibc 2.31 or newer and libstdc++.",
                candidates,
                ex);
        }

        return directory;
    }

    /// <summary>Throws unless the chat shim (templates, tool calls, reasoning, JSON schemas) loaded with the backend.</summary>
    public static void EnsureChatLayer()
    {
        EnsureInitialized();
        if (s_chatLayer == nint.Zero)
        {
            throw new LlamaNativeLibraryException(
                $"LocalLlm's chat layer ({ChatLayerFileName}, which needs libllama-common.so beside it) is not usable: {s_chatLayerFailure} " +
                "Reference the LocalLlm.Backend.Cpu package of the same version as LocalLlm.",
                [Current?.NativeLibraryDirectory ?? string.Empty]);
        }
    }

    // The chat shim is optional at load time: raw completion and embeddings work without it, and whatever needs it
    // says why it is missing (EnsureChatLayer).
    private static void LoadChatLayer(string directory)
    {
        string path = Path.Combine(directory, ChatLayerFileName);
        if (!File.Exists(path))
        {
            s_chatLayerFailure = $"'{path}' does not exist.";
            return;
        }

        try
        {
            s_chatLayer = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException ex)
        {
            s_chatLayerFailure = $"'{path}' could not be loaded: {ex.Message}";
            return;
        }

        int version;
        try
        {
            version = NativeMethods.localllm_chat_abi_version();
        }
        catch (EntryPointNotFoundException)
        {
            version = 0;
        }

        if (version != NativeMethods.ChatLayerAbiVersion)
        {
            s_chatLayer = nint.Zero;
            s_chatLayerFailure = $"'{path}' has ABI version {version}, but this LocalLlm needs {NativeMethods.ChatLayerAbiVersion}.";
            return;
        }

        // The chat layer's own log writes straight to stdout/stderr; failures come back to us as error strings instead.
        NativeMethods.localllm_chat_set_log_verbosity(-1);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        NativeMethods.LlamaLibrary => s_llama,
        NativeMethods.GgmlLibrary => s_ggml,
        NativeMethods.GgmlBaseLibrary => s_ggmlBase,
        NativeMethods.ChatLayerLibrary => s_chatLayer,
        _ => nint.Zero,
    };
}
