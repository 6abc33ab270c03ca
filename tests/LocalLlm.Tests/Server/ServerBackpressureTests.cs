using Microsoft.Extensions.DependencyInjection;
using System.Net;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Server;

/// <summary>
/// A server that is slow to finish a request (one sequence of 16,384 tokens, replies of up to 16,000 tokens) and has a
/// queue of one: what happens when a client leaves mid-stream, and when more clients come than the queue holds.
/// </summary>
[NonParallelizable]
public sealed class ServerBackpressureTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() =>
        _server = await TestServer.StartAsync(GeneratedModels.Ensure(ModelShape.Tiny), o =>
        {
            o.ContextSize = 16384;
            o.ParallelSequences = 1;
            o.MaxQueuedRequests = 1;
        });

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task AClientThatDisconnectsMidStream_StopsItsGenerationAtOnce()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"Write a very long story."}],"stream":true,"max_tokens":16000,"temperature":1,"seed":3}""", System.Text.Encoding.UTF8, "application/json"),
        };
        LlamaChatClient chat = _server.Services.GetRequiredService<LocalLlm.Server.ServedModel>().Chat;
        int generating;
        // A client that does not drain an abandoned response (HttpClient's default drains one for up to 2 s to reuse
        // its connection, which would hide how fast the server reacts).
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = _server.Address };
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestServer.ApiKey);
        using (HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.That(await reader.ReadLineAsync(), Does.StartWith("data: "), "the stream started");
            generating = chat.ActiveRequests;
        }

        var left = System.Diagnostics.Stopwatch.StartNew();
        while (chat.ActiveRequests > 0 && left.Elapsed < TimeSpan.FromSeconds(1))
        {
            await Task.Delay(10);
        }

        TestContext.Out.WriteLine($"stopped {left.Elapsed.TotalMilliseconds:F0} ms after the client left");
        Assert.That(generating, Is.EqualTo(1), "the request was generating while the client read");
        Assert.That(chat.ActiveRequests, Is.Zero, "it stopped within 1 s of the client leaving, where 16,000 tokens take far longer");
    }

    [Test]
    public async Task AFullQueue_Answers429WithRetryAfter_NeverHangs()
    {
        TestServer busy = _server;
        const string Long = """{"messages":[{"role":"user","content":"Write a long story."}],"stream":true,"max_tokens":16000,"temperature":1,"seed":5}""";
        using var generating = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Long, System.Text.Encoding.UTF8, "application/json") };
        using HttpResponseMessage first = await busy.Http.SendAsync(generating, HttpCompletionOption.ResponseHeadersRead);
        using var queued = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Long, System.Text.Encoding.UTF8, "application/json") };
        Task<HttpResponseMessage> second = busy.Http.SendAsync(queued, HttpCompletionOption.ResponseHeadersRead);
        await Task.Delay(200); // the second is waiting in the queue

        using HttpResponseMessage third = await busy.Http.PostAsync("/v1/chat/completions", new StringContent(Long, System.Text.Encoding.UTF8, "application/json"));

        Assert.Multiple(() =>
        {
            Assert.That(third.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(third.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        });
        first.Dispose();
        (await second).Dispose();
    }
}
