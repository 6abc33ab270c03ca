using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Server;

/// <summary>
/// Loads the served model in the background once the host has started, so the server answers <c>/health</c> (503)
/// while a large model loads instead of refusing connections.
/// </summary>
internal sealed partial class ModelLoadingService(ServedModel model, ILogger<ModelLoadingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await model.LoadAsync(stoppingToken).ConfigureAwait(false);
            LogLoaded(logger, model.Id);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The host keeps running so /health can say why; requests get the same error.
            LogLoadFailed(logger, ex, model.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model '{ModelId}' loaded; serving requests")]
    private static partial void LogLoaded(ILogger logger, string modelId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model '{ModelId}' failed to load")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string modelId);
}
