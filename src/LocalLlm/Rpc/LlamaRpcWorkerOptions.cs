using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>How <see cref="LlamaRpcWorker.Run"/> serves this machine's devices to a LocalLlm or llama.cpp client.</summary>
public sealed class LlamaRpcWorkerOptions
{
    /// <summary>Gets or sets the address to listen on. Default: <c>127.0.0.1</c>. Any other address logs a warning: the protocol has no authentication or encryption.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Gets or sets the TCP port to listen on. Default: 50052, llama.cpp's.</summary>
    public int Port { get; set; } = 50052;

    /// <summary>Gets or sets the CPU threads the worker computes with on a CPU device; null for the number of cores.</summary>
    public int? ThreadCount { get; set; }

    /// <summary>Gets or sets the devices to serve, by ggml name (<c>CPU</c>, <c>CUDA0</c>); empty for the GPUs, or the CPU when there is none.</summary>
    public IList<string> Devices { get; set; } = [];

    /// <summary>Gets or sets a directory where the worker keeps tensors it has received, by hash, so that a client loading the same model again sends only hashes; null for none.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Gets or sets where the worker logs; null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">The host is empty or holds a colon.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The port or thread count is out of range.</exception>
    /// <exception cref="ArgumentNullException"><see cref="Devices"/> is null.</exception>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host, nameof(Host));
        if (Host.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Host must be a host name or IPv4 address (ggml's RPC backend reads host:port at the first colon), but was '{Host}'.", nameof(Host));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535, nameof(Port));
        if (ThreadCount is { } threads)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1, nameof(ThreadCount));
        }

        ArgumentNullException.ThrowIfNull(Devices, nameof(Devices));
    }
}
