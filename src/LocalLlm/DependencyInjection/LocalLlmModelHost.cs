using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>
/// Owns one registered model: loads it once, on first use or at warm-up, with the app's logging, and disposes it
/// with the container.
/// </summary>
internal sealed partial class LocalLlmModelHost : IDisposable
{
    private readonly LocalLlmOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LlamaModel? _model;
    private bool _disposed;

    public LocalLlmModelHost(LocalLlmOptions options, ILoggerFactory? loggerFactory)
    {
        _options = options;
        _loggerFactory = loggerFactory;
    }

    public LocalLlmOptions Options => _options;

    /// <summary>Gets the app's logging, for the clients built over this model.</summary>
    public ILoggerFactory? LoggerFactory => _loggerFactory;

    public bool IsLoaded => Volatile.Read(ref _model) is not null;

    public async ValueTask<LlamaModel> GetModelAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _model) is { } loaded)
        {
            return loaded;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_model is null)
            {
                LlamaBackend.Initialize(_options.ToBackendOptions(_loggerFactory));
                LlamaModelOptions modelOptions = _options.ToModelOptions(_loggerFactory);
                string path = _options.ModelPath;
                LlamaFitPlan? plan = null;
                if (_options.FitToMemory)
                {
                    // The fit reads the file before the load does, so a reference is fetched first.
                    path = await LlamaModel.ResolvePathAsync(LlamaModelReference.Parse(path), modelOptions, cancellationToken).ConfigureAwait(false);
                    plan = Fit(path, modelOptions);
                }

                LlamaModel model = await LlamaModel.LoadAsync(path, modelOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
                model.FittedContextSize = plan?.ContextSize;
                Volatile.Write(ref _model, model);
            }

            return _model!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>For resolving <see cref="LlamaModel"/> itself from the container, which cannot await.</summary>
    public LlamaModel GetModel() =>
        Volatile.Read(ref _model) ?? GetModelAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>Plans the offload and context to the free memory, or fails before llama.cpp allocates anything.</summary>
    private LlamaFitPlan Fit(string path, LlamaModelOptions modelOptions)
    {
        LlamaFitPlan plan = LlamaModel.PlanFit(path, new LlamaFitOptions
        {
            GpuLayerCount = _options.GpuLayerCount == -1 ? null : _options.GpuLayerCount,
            ContextSize = _options.ContextSize,
            Sequences = _options.ParallelSequences,
            MarginBytes = _options.FitMarginBytes,
            MinimumContextSize = _options.FitMinimumContextSize,
        });
        if (!plan.Fits)
        {
            throw new LlamaModelLoadException(path, LlamaModelLoadFailure.InsufficientMemory, $"Model '{path}' does not fit this machine: {plan.Explanation}");
        }

        plan.ApplyTo(modelOptions);
        ILogger logger = _loggerFactory?.CreateLogger("LocalLlm.LlamaModel") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        LogPlan(logger, path, plan.GpuLayerCount, plan.ContextSize, _options.ParallelSequences, plan.Estimate.TotalBytes / 1048576);
        return plan;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fitted '{Path}' to free memory: {GpuLayers} GPU layers (-1: all), a context of {ContextSize} tokens x {Sequences} sequences, {TotalMiB} MiB in all")]
    private static partial void LogPlan(ILogger logger, string path, int gpuLayers, int contextSize, int sequences, long totalMiB);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _model?.Dispose();
        _gate.Dispose();
    }
}
