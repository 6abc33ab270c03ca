using LocalLlm.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LocalLlm;

/// <summary>
/// llama.cpp's RPC workers: the machines a model's layers can be placed on (<see cref="LlamaModelOptions.RpcServers"/>).
/// <see cref="ProbeAsync"/> checks one from the client's side; <see cref="Run"/> makes this process one.
/// </summary>
/// <remarks>
/// ggml's RPC protocol has no authentication or encryption: run workers inside a private network or a tunnel, never on
/// an open one. Client and workers must come from the same llama.cpp build. A worker serves one client at a time.
/// </remarks>
public static partial class LlamaRpcWorker
{
    /// <summary>The default time a probe waits for a worker to accept the connection and to answer.</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Connects to a worker, checks that it speaks this llama.cpp build's RPC protocol, reads its devices' memory, and
    /// disconnects.
    /// </summary>
    /// <param name="endpoint">The worker's <c>host:port</c>.</param>
    /// <param name="timeout">How long to wait for the connection and for each answer; null for <see cref="DefaultProbeTimeout"/>.</param>
    /// <param name="cancellationToken">Stops the probe.</param>
    /// <returns>The worker's protocol version and devices.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    /// <exception cref="LlamaRpcWorkerException">The worker cannot be used; <see cref="LlamaRpcWorkerException.Failure"/> says why.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<LlamaRpcWorkerInfo> ProbeAsync(string endpoint, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        TimeSpan wait = timeout ?? DefaultProbeTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero, nameof(timeout));
        return RpcWorkerProbe.ProbeAsync(endpoint, wait, cancellationToken);
    }

    /// <summary>
    /// Serves this machine's devices to RPC clients on <see cref="LlamaRpcWorkerOptions.Host"/>:<see cref="LlamaRpcWorkerOptions.Port"/>,
    /// one client at a time, for as long as the process lives: ggml's server loop does not return. Run it on a thread
    /// of its own and end the process to stop it.
    /// </summary>
    /// <param name="options">Where to listen and what to serve.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid, or a device named in <see cref="LlamaRpcWorkerOptions.Devices"/> does not exist here.</exception>
    /// <exception cref="LlamaNativeLibraryException">The RPC backend (LocalLlm.Backend.Rpc) is not installed.</exception>
    /// <exception cref="LlamaException">The worker could not listen (the port is taken, or the address is not this machine's).</exception>
    public static void Run(LlamaRpcWorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        LlamaBackendInfo backend = NativeLibraryLoader.Initialize(new LlamaBackendOptions { LoggerFactory = options.LoggerFactory });
        ILogger logger = options.LoggerFactory?.CreateLogger(typeof(LlamaRpcWorker).FullName!) ?? NullLogger.Instance;
        IReadOnlyList<(string Name, nint Device)> devices = RpcBackend.ChooseServedDevices(options.Devices)
            ?? throw new ArgumentException($"A device in {string.Join(", ", options.Devices)} does not exist on this machine; it has: {string.Join(", ", backend.Devices.Select(d => d.Name))}.", nameof(options));
        string endpoint = $"{options.Host}:{options.Port}";
        if (options.Host != "127.0.0.1")
        {
            LogOpenNetwork(logger, endpoint);
        }

        if (options.CacheDirectory is { } cache)
        {
            Directory.CreateDirectory(cache);
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            string served = string.Join(", ", devices.Select(d => d.Name));
            LogServing(logger, endpoint, served, options.CacheDirectory ?? "none");
        }

        RpcBackend.StartServer(endpoint, options.CacheDirectory is { } directory ? Path.GetFullPath(directory) + "/" : null, options.ThreadCount ?? Environment.ProcessorCount, devices);

        // The server loop only returns when it could not set up its socket.
        throw new LlamaException($"The RPC worker could not listen on {endpoint}: the port is in use, or {options.Host} is not an address of this machine.");
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "The RPC worker listens on {Endpoint}, beyond this machine. ggml's RPC protocol has no authentication or encryption: anyone who reaches the port can run computations and read the tensors. Keep it inside a private network or a tunnel.")]
    private static partial void LogOpenNetwork(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "RPC worker serving {Devices} on {Endpoint} (tensor cache: {Cache})")]
    private static partial void LogServing(ILogger logger, string endpoint, string devices, string cache);
}
