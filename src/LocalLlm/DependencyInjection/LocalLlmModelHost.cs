using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>
/// Owns one registered model: loads it once, on first use or at warm-up, with the app's logging, and disposes it
/// with the container.
/// </summary>
internal sealed class LocalLlmModelHost : IDisposable
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
                LlamaModel model = await LlamaModel.LoadAsync(_options.ModelPath, _options.ToModelOptions(_loggerFactory), cancellationToken: cancellationToken).ConfigureAwait(false);
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
    public LlamaModel GetModel()
    {
        if (Volatile.Read(ref _model) is { } loaded)
        {
            return loaded;
        }

        _gate.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_model is null)
            {
                LlamaBackend.Initialize(_options.ToBackendOptions(_loggerFactory));
                Volatile.Write(ref _model, LlamaModel.Load(_options.ModelPath, _options.ToModelOptions(_loggerFactory)));
            }

            return _model!;
        }
        finally
        {
            _gate.Release();
        }
    }

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
