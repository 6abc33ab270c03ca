using System.Net;
using System.Text;
using System.Text.Json;
using LocalLlm.ModelGenerator;
using LocalLlm.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LocalLlm.Tests.Server;

/// <summary>
/// Server behaviour that needs a server of its own: reasoning on a reasoning template, CORS and key files, stopping the
/// host mid-stream, and <c>/health</c> across a model's load.
/// </summary>
[NonParallelizable]
public sealed class ServerBehaviourTests
{
    [Test]
    public async Task Reasoning_StreamsAsReasoningContent_BeforeTheAnswer_AndIsCountedInUsage()
    {
        string model = GeneratedModels.Ensure(ModelSpec.For(ModelShape.Tiny) with { ChatTemplateFile = "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", Variant = "r1tmpl" });
        await using TestServer server = await TestServer.StartAsync(model);
        const string Request = """{"messages":[{"role":"user","content":"Why is the sky blue?"}],"max_tokens":40,"temperature":0.8,"seed":5,"reasoning_budget_tokens":10,"stream":true,"stream_options":{"include_usage":true}}""";

        using HttpResponseMessage response = await server.Http.PostAsync("/v1/chat/completions", new StringContent(Request, Encoding.UTF8, "application/json"));
        JsonElement[] chunks = [.. (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e != "data: [DONE]").Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone())];
        JsonElement[] deltas = [.. chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => c.GetProperty("choices")[0].GetProperty("delta"))];
        int lastReasoning = Array.FindLastIndex(deltas, d => d.TryGetProperty("reasoning_content", out _));
        int firstAnswer = Array.FindIndex(deltas, d => d.TryGetProperty("content", out JsonElement c) && c.GetString()!.Length > 0);
        string reasoning = string.Concat(deltas.Where(d => d.TryGetProperty("reasoning_content", out _)).Select(d => d.GetProperty("reasoning_content").GetString()));
        JsonElement usage = chunks[^1].GetProperty("usage");

        Assert.Multiple(() =>
        {
            Assert.That(reasoning, Is.Not.Empty.And.Not.Contain("<think>"));
            Assert.That(firstAnswer, Is.GreaterThan(lastReasoning), "the budget closed the reasoning and the answer followed");
            Assert.That(usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32(), Is.InRange(10, 14));
            Assert.That(usage.GetProperty("completion_tokens").GetInt32(), Is.EqualTo(40));
        });
    }

    [Test]
    public async Task KeysFromAFile_AreAccepted_AndCorsAllowsOnlyTheListedOrigin()
    {
        string keyFile = Path.GetTempFileName();
        await File.WriteAllLinesAsync(keyFile, ["# team keys", "alpha-key", "", "beta-key"]);
        try
        {
            await using TestServer server = await TestServer.StartAsync(GeneratedModels.Ensure(ModelShape.Tiny), configureServer: o =>
            {
                o.ApiKeyFile = keyFile;
                o.AllowedOrigins.Add("http://localhost:3000");
            });
            using var client = new HttpClient { BaseAddress = server.Address };
            async Task<HttpStatusCode> ModelsWith(string key)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
                request.Headers.Authorization = new("Bearer", key);
                using HttpResponseMessage response = await client.SendAsync(request);
                return response.StatusCode;
            }

            async Task<string?> AllowedOriginFor(string origin)
            {
                using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
                preflight.Headers.Add("Origin", origin);
                preflight.Headers.Add("Access-Control-Request-Method", "POST");
                preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
                using HttpResponseMessage response = await client.SendAsync(preflight);
                return response.Headers.TryGetValues("Access-Control-Allow-Origin", out IEnumerable<string>? values) ? values.Single() : null;
            }

            Assert.Multiple(async () =>
            {
                Assert.That(await ModelsWith("alpha-key"), Is.EqualTo(HttpStatusCode.OK));
                Assert.That(await ModelsWith("beta-key"), Is.EqualTo(HttpStatusCode.OK));
                Assert.That(await ModelsWith("# team keys"), Is.EqualTo(HttpStatusCode.Unauthorized), "comment lines are not keys");
                Assert.That(await ModelsWith(TestServer.ApiKey), Is.EqualTo(HttpStatusCode.OK), "keys in the options and in the file both count");
                Assert.That(await AllowedOriginFor("http://localhost:3000"), Is.EqualTo("http://localhost:3000"));
                Assert.That(await AllowedOriginFor("http://evil.example"), Is.Null);
            });
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Test]
    public async Task StoppingTheHost_EndsAnInFlightStream_WithAnErrorEvent()
    {
        TestServer server = await TestServer.StartAsync(GeneratedModels.Ensure(ModelShape.Tiny), o =>
        {
            o.ContextSize = 16384;
            o.ParallelSequences = 1;
        });
        await using (server)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"messages":[{"role":"user","content":"Go on."}],"stream":true,"max_tokens":16000,"temperature":1,"seed":2}""", Encoding.UTF8, "application/json"),
            };
            using HttpResponseMessage response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.That(await reader.ReadLineAsync(), Does.StartWith("data: "));

            var stopping = System.Diagnostics.Stopwatch.StartNew();
            Task stop = server.StopAsync();
            string rest = await reader.ReadToEndAsync();
            await stop;

            Assert.Multiple(() =>
            {
                Assert.That(rest, Does.Contain("\"error\"").And.Contain("shutting down"), "the client is told why its stream ended");
                Assert.That(rest, Does.Not.Contain("\"finish_reason\":\"length\""), "the generation stopped, not ran to 16,000 tokens");
                Assert.That(stopping.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
            });
        }
    }

    [Test]
    public async Task Health_Is503BeforeTheModelLoads_200After_And500WithTheReasonWhenItCannot()
    {
        async Task<(int Status, string Body)> HealthOf(ServedModel served)
        {
            var context = new DefaultHttpContext();
            context.Response.Body = new MemoryStream();
            await LlamaServerEndpoints.HealthAsync(context, served);
            return (context.Response.StatusCode, Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
        }

        ServedModel ServedOver(string path, out ServiceProvider provider)
        {
            var services = new ServiceCollection();
            services.AddLocalLlm(o => o.ModelPath = path).AddOpenAiServer();
            provider = services.BuildServiceProvider();
            return provider.GetRequiredService<ServedModel>();
        }

        string notAModel = Path.Combine(Path.GetTempPath(), $"not-a-model-{Guid.NewGuid():N}.gguf");
        await File.WriteAllTextAsync(notAModel, "this is not a GGUF file");
        ServedModel good = ServedOver(GeneratedModels.Ensure(ModelShape.Tiny), out ServiceProvider goodProvider);
        ServedModel missing = ServedOver(notAModel, out ServiceProvider missingProvider);
        using (goodProvider)
        using (missingProvider)
        {
            (int before, string beforeBody) = await HealthOf(good);
            await good.LoadAsync(CancellationToken.None);
            (int after, _) = await HealthOf(good);
            Assert.CatchAsync(() => missing.LoadAsync(CancellationToken.None));
            (int failed, string failedBody) = await HealthOf(missing);

            Assert.Multiple(() =>
            {
                Assert.That(before, Is.EqualTo(503));
                Assert.That(beforeBody, Does.Contain("Loading model"));
                Assert.That(after, Is.EqualTo(200));
                Assert.That(failed, Is.EqualTo(500));
                Assert.That(failedBody, Does.Contain("failed to load").And.Contain("not-a-model"));
            });
        }

        File.Delete(notAModel);
    }
}
