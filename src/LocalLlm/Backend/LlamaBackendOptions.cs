using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>Options for loading the llama.cpp runtime with <see cref="LlamaBackend.Initialize"/>.</summary>
public sealed class LlamaBackendOptions
{
    /// <summary>
    /// Gets or sets the folder holding <c>libllama.v0.5.0.so</c> and its ggml libraries. Default: null, which
    /// searches the <c>LOCALLLM_NATIVE_DIRECTORY</c> environment variable, then the application's
    /// <c>runtimes/&lt;rid&gt;/native</c> folder (where the LocalLlm.Backend.* packages put them), then the application folder.
    /// </summary>
    public string? NativeLibraryDirectory { get; set; }

    /// <summary>Gets or sets the logger factory that receives LocalLlm's and llama.cpp's diagnostics. Default: none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets a value indicating whether CUDA backends are tried when present. Default: true.</summary>
    public bool EnableGpu { get; set; } = true;
}
