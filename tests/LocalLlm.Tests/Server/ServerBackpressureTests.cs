using System.Diagnostics.Metrics;
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
        int cancelled = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LlamaMetrics.MeterName && instrument.Name == "localllm.requests")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag is { Key: "finish_reason", Value: "cancelled" })
                {
                    Interlocked.Increment(ref cancelled);
                }
            }
        });
        listener.Start();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"Write a very long story."}],"stream":true,"max_tokens":16000,"temperature":1,"seed":3}""", System.Text.Encoding.UTF8, "application/json"),
        };
        var started = System.Diagnostics.Stopwatch.StartNew();
        using (HttpResponseMessage response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.That(await reader.ReadLineAsync(), Does.StartWith("data: "), "the stream started");
        }

        for (int wait = 0; wait < 200 && Volatile.Read(ref cancelled) == 0; wait++)
        {
            await Task.Delay(10);
        }

        Assert.That(Volatile.Read(ref cancelled), Is.EqualTo(1), "the request ended as cancelled soon after the client left, not after 16,000 tokens");
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
