using LocalLlm;
using LocalLlm.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the OpenAI-compatible server to a model registered with <c>AddLocalLlm</c>.</summary>
public static class LocalLlmServerBuilderExtensions
{
    /// <summary>The CORS policy the endpoints use when <see cref="LocalLlmServerOptions.AllowedOrigins"/> is set.</summary>
    public const string CorsPolicyName = "LocalLlmServer";

    /// <summary>
    /// Registers what <c>MapLocalLlmOpenAi</c> serves: the model (loaded in the background once the host starts, so
    /// <c>/health</c> answers 503 until it is ready), API keys, CORS, and the SDK's <c>LocalLlm</c> meter exported
    /// for Prometheus at <c>/metrics</c>. Options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The model registration.</param>
    /// <param name="configure">Sets API keys, allowed origins and the like; null for the defaults (open, same origin only).</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static LocalLlmBuilder AddOpenAiServer(this LocalLlmBuilder builder, Action<LocalLlmServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        OptionsBuilder<LocalLlmServerOptions> options = services.AddOptions<LocalLlmServerOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocalLlmServerOptions>, LocalLlmServerOptionsValidator>());
        object? key = builder.ServiceKey;
        services.AddSingleton(provider => new ServedModel(provider, key));
        services.AddSingleton<ApiKeyCheck>();
        services.AddSingleton<IHostedService, ModelLoadingService>();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<LocalLlmServerOptions>>((cors, server) =>
        {
            if (server.Value.AllowedOrigins.Count == 0)
            {
                return;
            }

            cors.AddPolicy(CorsPolicyName, policy =>
            {
                policy = server.Value.AllowedOrigins.Contains("*") ? policy.AllowAnyOrigin() : policy.WithOrigins([.. server.Value.AllowedOrigins]);
                policy.AllowAnyHeader().AllowAnyMethod();
            });
        });
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(LlamaMetrics.MeterName).AddPrometheusExporter());
        return builder;
    }
}
