using LocalLlm.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the OpenAI-compatible endpoints onto an ASP.NET Core app.</summary>
public static class LocalLlmEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps OpenAI's <c>GET /v1/models</c>, <c>POST /v1/chat/completions</c>, <c>POST /v1/completions</c> and
    /// <c>POST /v1/embeddings</c>, and llama-server's <c>GET /health</c>, <c>POST /tokenize</c>, <c>POST /detokenize</c>,
    /// <c>POST /apply-template</c>, <c>GET /props</c> and <c>GET /metrics</c> (Prometheus). Register the model first with
    /// <c>services.AddLocalLlm(…).AddOpenAiServer(…)</c>; with allowed origins set, call <c>app.UseCors()</c> too.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <returns>A builder for conventions applied to every mapped endpoint.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>AddOpenAiServer</c> was not called.</exception>
    public static IEndpointConventionBuilder MapLocalLlmOpenAi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        IServiceProvider services = endpoints.ServiceProvider;
        ServedModel served = services.GetService<ServedModel>()
            ?? throw new InvalidOperationException("MapLocalLlmOpenAi needs the server's services: call services.AddLocalLlm(…).AddOpenAiServer() first.");
        ApiKeyCheck keys = services.GetRequiredService<ApiKeyCheck>();
        LocalLlmServerOptions options = services.GetRequiredService<IOptions<LocalLlmServerOptions>>().Value;
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("LocalLlm.Server");
        CancellationToken stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        RequestDelegate Guarded(Func<HttpContext, ServedModel, CancellationToken, Task> endpoint) => context =>
            keys.IsAuthorized(context.Request)
                ? OpenAiHttp.RunAsync(context, logger, options.RetryAfterSeconds, token => endpoint(context, served, token), stopping)
                : OpenAiHttp.WriteUnauthorizedAsync(context.Response);

        RouteGroupBuilder group = endpoints.MapGroup(string.Empty);
        group.MapGet("/health", context => LlamaServerEndpoints.HealthAsync(context, served));
        group.MapGet("/v1/health", context => LlamaServerEndpoints.HealthAsync(context, served));
        group.MapGet("/v1/models", Guarded((context, model, _) => LlamaServerEndpoints.ModelsAsync(context, model)));
        group.MapGet("/models", Guarded((context, model, _) => LlamaServerEndpoints.ModelsAsync(context, model)));
        group.MapPost("/v1/chat/completions", Guarded(ChatCompletionsEndpoint.HandleAsync));
        group.MapPost("/chat/completions", Guarded(ChatCompletionsEndpoint.HandleAsync));
        group.MapPost("/v1/completions", Guarded(CompletionsEndpoint.HandleAsync));
        group.MapPost("/completions", Guarded(CompletionsEndpoint.HandleAsync));
        group.MapPost("/v1/embeddings", Guarded(EmbeddingsEndpoint.HandleAsync));
        group.MapPost("/embeddings", Guarded(EmbeddingsEndpoint.HandleAsync));
        group.MapPost("/tokenize", Guarded(LlamaServerEndpoints.TokenizeAsync));
        group.MapPost("/detokenize", Guarded(LlamaServerEndpoints.DetokenizeAsync));
        group.MapPost("/apply-template", Guarded(LlamaServerEndpoints.ApplyTemplateAsync));
        group.MapGet("/props", Guarded(LlamaServerEndpoints.PropsAsync));
        group.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            if (!keys.IsAuthorized(context.Request))
            {
                await OpenAiHttp.WriteUnauthorizedAsync(context.Response).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        }), optionsName: null);
        if (options.AllowedOrigins.Count > 0)
        {
            group.RequireCors(LocalLlmServerBuilderExtensions.CorsPolicyName);
        }

        return group;
    }
}
