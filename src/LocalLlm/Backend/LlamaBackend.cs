using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// The process-wide llama.cpp runtime: which native libraries were loaded and which devices they found.
/// </summary>
/// <remarks>
/// LocalLlm initialises the runtime on first use with default options, so calling <see cref="Initialize"/> is
/// only needed to choose the native library directory, pass a logger factory, or disable GPU backends.
/// Initialisation happens once per process and is thread-safe.
/// </remarks>
public static class LlamaBackend
{
    /// <summary>Loads llama.cpp (once per process) and returns what was loaded.</summary>
    /// <param name="options">Where to find the native libraries and where to log; null for the defaults.</param>
    /// <returns>The loaded runtime's description: directory, version, devices, and why a GPU backend was not used.</returns>
    /// <exception cref="LlamaNativeLibraryException">The native libraries could not be found or loaded.</exception>
    /// <exception cref="InvalidOperationException">The runtime was already loaded from a different directory.</exception>
    public static LlamaBackendInfo Initialize(LlamaBackendOptions? options = null) =>
        NativeLibraryLoader.Initialize(options ?? new LlamaBackendOptions());

    /// <summary>Gets the loaded runtime's description, or null before anything has loaded it.</summary>
    public static LlamaBackendInfo? Current => NativeLibraryLoader.Current;
}
