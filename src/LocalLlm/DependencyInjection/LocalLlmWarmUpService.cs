using Microsoft.Extensions.Hosting;

namespace LocalLlm;

/// <summary>Loads a registered model while the host starts, when <see cref="LocalLlmOptions.WarmUp"/> asks for it.</summary>
internal sealed class LocalLlmWarmUpService(LocalLlmModelHost host) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (host.Options.WarmUp)
        {
            await host.GetModelAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
