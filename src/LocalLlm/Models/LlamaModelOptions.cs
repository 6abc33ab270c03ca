using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>How <see cref="LlamaModel.LoadAsync"/> loads a model.</summary>
public sealed class LlamaModelOptions
{
    /// <summary>
    /// Gets or sets how many layers to offload to the GPU: 0 keeps everything on the CPU, a negative value
    /// offloads every layer. Default: -1 (all layers, llama.cpp's default; without a GPU this has no effect).
    /// </summary>
    public int GpuLayerCount { get; set; } = -1;

    /// <summary>Gets or sets the GPU used for the whole model when <see cref="SplitMode"/> is <see cref="LlamaSplitMode.None"/>. Default: 0.</summary>
    public int MainGpu { get; set; }

    /// <summary>Gets or sets how the model is spread over several GPUs. Default: <see cref="LlamaSplitMode.Layer"/>.</summary>
    public LlamaSplitMode SplitMode { get; set; } = LlamaSplitMode.Layer;

    /// <summary>Gets or sets a value indicating whether the file is memory-mapped rather than read into memory. Default: true.</summary>
    public bool UseMemoryMap { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the weights are locked in RAM so the OS cannot swap them out. Default: false.</summary>
    public bool LockMemory { get; set; }

    /// <summary>Gets or sets a value indicating whether only the vocabulary is loaded (tokenizer only, no weights). Default: false.</summary>
    public bool VocabularyOnly { get; set; }

    /// <summary>Gets or sets a value indicating whether tensor data is validated while loading (slower). Default: false.</summary>
    public bool ValidateTensors { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether weights kept on the CPU are repacked into the layouts of its fastest
    /// kernels (llama.cpp's extra buffer types; llama-server's <c>--no-repack</c> turns it off). Turning it off costs
    /// speed and gives the plain kernels' results, which are what an RPC worker's CPU computes. Default: true.
    /// </summary>
    public bool RepackWeights { get; set; } = true;

    /// <summary>
    /// Gets or sets where the load's warnings go: values in the file that llama.cpp accepts but that look wrong (a
    /// trained context length of 0, a special token id outside the vocabulary, token scores that are not numbers),
    /// under the category <c>LocalLlm.LlamaModel</c>. Default: null, the logger factory given to the backend.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets how an <c>hf:</c> or <c>https://</c> model reference is fetched (hub, cache folder, token, offline
    /// mode, retries). Default: null, the defaults read from the environment as llama.cpp reads them.
    /// </summary>
    public LlamaModelDownloadOptions? Download { get; set; }

    /// <summary>Gets or sets what receives download progress when the model is fetched first. Default: null.</summary>
    public IProgress<LlamaDownloadProgress>? DownloadProgress { get; set; }

    /// <summary>
    /// Gets or sets llama.cpp RPC workers (<c>host:port</c>, started with <c>rpc-server</c> or
    /// <see cref="LlamaRpcWorker.Run"/>) whose devices take part of the model, as local GPUs do: the
    /// <see cref="GpuLayerCount"/> last layers are offloaded, shared among the local GPUs and the workers' devices by
    /// <see cref="TensorSplit"/> (by default in proportion to their free memory), and the rest stay on the CPU. Each is
    /// probed before loading; one that cannot be used fails the load with
    /// <see cref="LlamaModelLoadFailure.RpcWorkerUnavailable"/>. Needs the LocalLlm.Backend.Rpc package. Default: none.
    /// </summary>
    /// <remarks>
    /// ggml's RPC protocol has no authentication or encryption: keep workers inside a private network or a tunnel. A
    /// worker that fails while the model computes aborts this process inside llama.cpp.
    /// </remarks>
    public IList<string> RpcServers { get; set; } = [];

    /// <summary>
    /// Gets or sets the share of the offloaded layers each device takes, in device order: each worker's devices in
    /// <see cref="RpcServers"/>' order, then the local GPUs as <see cref="LlamaBackendInfo.Devices"/> lists them (llama.cpp's
    /// order, which puts the workers first to keep network transfers down).
    /// Proportions, not counts (<c>[1, 3]</c> gives the second device three quarters). Empty: by free memory, as
    /// llama.cpp decides. Default: empty.
    /// </summary>
    public IList<float> TensorSplit { get; set; } = [];

    /// <summary>Gets or sets how long the probe of each RPC worker waits for it to connect and answer. Default: 5 seconds.</summary>
    public TimeSpan RpcProbeTimeout { get; set; } = LlamaRpcWorker.DefaultProbeTimeout;

    /// <summary>Checks that every value is in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    /// <exception cref="ArgumentException">An RPC endpoint is malformed or listed twice.</exception>
    public void Validate()
    {
        Download?.Validate();
        ArgumentNullException.ThrowIfNull(RpcServers, nameof(RpcServers));
        ArgumentNullException.ThrowIfNull(TensorSplit, nameof(TensorSplit));
        if (RpcServers.Count > Native.RpcProtocol.MaxServers)
        {
            throw new ArgumentOutOfRangeException(nameof(RpcServers), RpcServers.Count, $"{nameof(RpcServers)} may list at most {Native.RpcProtocol.MaxServers} workers (ggml's limit), but lists {RpcServers.Count}.");
        }

        foreach (string endpoint in RpcServers)
        {
            if (!RpcEndpoint.TryParse(endpoint, out _, out string problem))
            {
                throw new ArgumentException($"{nameof(RpcServers)}: {problem}", nameof(RpcServers));
            }
        }

        if (RpcServers.Distinct(StringComparer.OrdinalIgnoreCase).Count() != RpcServers.Count)
        {
            throw new ArgumentException($"{nameof(RpcServers)} lists a worker twice: {string.Join(", ", RpcServers)}.", nameof(RpcServers));
        }

        if (TensorSplit.Any(share => !float.IsFinite(share) || share < 0) || (TensorSplit.Count > 0 && TensorSplit.All(share => share == 0)))
        {
            throw new ArgumentOutOfRangeException(nameof(TensorSplit), $"{nameof(TensorSplit)} shares must be finite, 0 or greater, and not all 0, but were [{string.Join(", ", TensorSplit)}].");
        }

        if (RpcProbeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RpcProbeTimeout), RpcProbeTimeout, $"{nameof(RpcProbeTimeout)} must be positive, but was {RpcProbeTimeout}.");
        }

        if (MainGpu < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MainGpu), MainGpu, $"{nameof(MainGpu)} must be 0 or greater, but was {MainGpu}.");
        }

        if (!Enum.IsDefined(SplitMode))
        {
            throw new ArgumentOutOfRangeException(nameof(SplitMode), SplitMode, $"{nameof(SplitMode)} {(int)SplitMode} is not a defined {nameof(LlamaSplitMode)}.");
        }
    }
}
