using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LocalLlm.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Server;

/// <summary>The OpenAI-compatible server on Kestrel at 127.0.0.1 and a free port, over a model file, for one test class.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const string ApiKey = "test-key";

    private readonly WebApplication _app;

    private TestServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public Uri Address { get; }

    /// <summary>Gets a client that sends the API key.</summary>
    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestServer> StartAsync(string modelPath, Action<LocalLlmOptions>? configure = null, Action<LocalLlmServerOptions>? configureServer = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLocalLlm(o =>
            {
                o.ModelPath = modelPath;
                o.ModelId = "test-model";
                o.ContextSize = 1024;
                o.ThreadCount = 2;
                o.ParallelSequences = 4;
                o.QueueFullBehavior = LlamaQueueFullBehavior.Fail;
                configure?.Invoke(o);
            })
            .AddOpenAiServer(o =>
            {
                o.ApiKeys.Add(ApiKey);
                configureServer?.Invoke(o);
            });
        WebApplication app = builder.Build();
        app.UseCors();
        app.MapLocalLlmOpenAi();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var server = new TestServer(app, new Uri(address));
        await server.WaitUntilHealthyAsync();
        return server;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string json, HttpClient? client = null)
    {
        using HttpResponseMessage response = await (client ?? Http).PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        using JsonDocument document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>Stops the host as a shutdown would (in-flight requests see it); disposal after that is fine.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var open = new HttpClient { BaseAddress = Address };
        for (int attempt = 0; attempt < 600; attempt++)
        {
            using HttpResponseMessage health = await open.GetAsync("/health");
            if (health.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "while loading, /health answers 503");
            await Task.Delay(50);
        }

        Assert.Fail("the model did not load within 30 s");
    }
}
