using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Benchmarks;

/// <summary>
/// What serving over HTTP costs: the same streamed chat requests, from 1, 4, 16 and 64 concurrent clients, sent to the
/// in-process <see cref="LlamaChatClient"/> and to the OpenAI-compatible server (Kestrel on loopback, server-sent events,
/// a plain HttpClient reading them) over one model, interleaved in one run. Prints aggregate tok/s and the median time
/// to first token, then the server's own cost per streamed token: turning one update into its chunk's JSON and writing
/// it as a server-sent event, timed alone (the whole process's CPU time cannot tell it from llama.cpp's threads).
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --server [--models tiny,small] [--clients 1,4,16,64]
///     [--gen-tokens 64] [--parallel 16] [--reps 5] [--threads N]
/// </summary>
internal static class ServerBenchmark
{
    private const double MinimumServerShare = 0.9;

    public static async Task<int> RunAsync(string[] args)
    {
        string[] models = BenchmarkSettings.Option(args, "--models", "tiny,small").Split(',');
        int[] clientCounts = [.. BenchmarkSettings.Option(args, "--clients", "1,4,16,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
        int tokens = int.Parse(BenchmarkSettings.Option(args, "--gen-tokens", "64"), CultureInfo.InvariantCulture);
        int parallel = int.Parse(BenchmarkSettings.Option(args, "--parallel", "16"), CultureInfo.InvariantCulture);
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "5"), CultureInfo.InvariantCulture);
        int? threads = args.Contains("--threads") ? int.Parse(BenchmarkSettings.Option(args, "--threads", "0"), CultureInfo.InvariantCulture) : null;
        LlamaBackend.Initialize();
        Console.WriteLine($"Serving over HTTP: streamed chat requests of {tokens} tokens (sampled, a seed per client), {parallel} parallel sequences, median of {reps}; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine("in-process = LlamaChatClient.GetStreamingResponseAsync; server = POST /v1/chat/completions with stream=true over loopback HTTP.");
        Console.WriteLine();
        Console.WriteLine($"{"model",-6} {"clients",7} | {"in-proc tok/s",13} {"server tok/s",12} {"ratio",6} | {"TTFT in-proc",12} {"TTFT server",11}");
        var goals = new List<(string Goal, bool Passed)>();
        foreach (string name in models)
        {
            string path = ModelBenchmark.EnsureModel(name, null);
            WebApplication app = await StartServerAsync(path, name, parallel, threads).ConfigureAwait(false);
            try
            {
                var chat = (LlamaChatClient)app.Services.GetRequiredService<IChatClient>();
                string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(5) };
                await RunInProcessAsync(chat, 2, tokens).ConfigureAwait(false); // warm both paths (JIT, connections)
                await RunServerAsync(http, 2, tokens).ConfigureAwait(false);
                foreach (int clients in clientCounts)
                {
                    var local = new List<Run>();
                    var served = new List<Run>();
                    for (int rep = 0; rep < reps; rep++)
                    {
                        local.Add(await RunInProcessAsync(chat, clients, tokens).ConfigureAwait(false));
                        served.Add(await RunServerAsync(http, clients, tokens).ConfigureAwait(false));
                    }

                    Run l = Median(local);
                    Run s = Median(served);
                    double ratio = s.TokensPerSecond / l.TokensPerSecond;
                    Console.WriteLine($"{name,-6} {clients,7} | {l.TokensPerSecond,13:F1} {s.TokensPerSecond,12:F1} {ratio,6:F2} | {l.TimeToFirstToken.TotalMilliseconds,10:F1}ms {s.TimeToFirstToken.TotalMilliseconds,9:F1}ms");
                    goals.Add(($"{name}, {clients} client{(clients == 1 ? "" : "s")}: server {ratio:F2} of in-process (>= {MinimumServerShare})", ratio >= MinimumServerShare));
                }
            }
            finally
            {
                await app.StopAsync().ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"The server's own cost per streamed token (chunk JSON + SSE framing, one update of a 4-character token): {await ChunkCostAsync(ModelBenchmark.EnsureModel(models[0], null)).ConfigureAwait(false):F2} µs");
        Console.WriteLine();
        foreach ((string goal, bool passed) in goals)
        {
            Console.WriteLine($"{(passed ? "PASS" : "FAIL")}  {goal}");
        }

        return goals.TrueForAll(g => g.Passed) ? 0 : 1;
    }

    private static async Task<WebApplication> StartServerAsync(string modelPath, string name, int parallel, int? threads)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLocalLlm(o =>
        {
            o.ModelPath = modelPath;
            o.ModelId = name;
            o.ContextSize = 512;
            o.ParallelSequences = parallel;
            o.MaxQueuedRequests = 256;
            o.ThreadCount = threads;
        }).AddOpenAiServer();
        WebApplication app = builder.Build();
        app.MapLocalLlmOpenAi();
        await app.StartAsync().ConfigureAwait(false);
        var chat = (LlamaChatClient)app.Services.GetRequiredService<IChatClient>();
        await chat.GetResponseAsync("warm up", new ChatOptions { MaxOutputTokens = 1 }).ConfigureAwait(false);
        return app;
    }

    private static async Task<Run> RunInProcessAsync(LlamaChatClient chat, int clients, int tokens)
    {
        long start = Stopwatch.GetTimestamp();
        (int Tokens, TimeSpan FirstToken)[] results = await Task.WhenAll(Enumerable.Range(0, clients).Select(async i =>
        {
            TimeSpan first = TimeSpan.Zero;
            int generated = 0;
            var options = new ChatOptions { MaxOutputTokens = tokens, Temperature = 1, Seed = i };
            await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, Prompt(i))], options).ConfigureAwait(false))
            {
                first = first == TimeSpan.Zero && update.Contents.Count > 0 ? Stopwatch.GetElapsedTime(start) : first;
                generated = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details.OutputTokenCount is { } count ? (int)count : generated;
            }

            return (generated, first);
        })).ConfigureAwait(false);
        return new Run(results.Sum(r => r.Tokens), Stopwatch.GetElapsedTime(start), Median(results.Select(r => r.FirstToken)));
    }

    private static async Task<Run> RunServerAsync(HttpClient http, int clients, int tokens)
    {
        long start = Stopwatch.GetTimestamp();
        (int Tokens, TimeSpan FirstToken)[] results = await Task.WhenAll(Enumerable.Range(0, clients).Select(async i =>
        {
            string body = $$"""{"messages":[{"role":"user","content":"{{Prompt(i)}}"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":{{tokens}},"temperature":1,"seed":{{i}}}""";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().ConfigureAwait(false));
            TimeSpan first = TimeSpan.Zero;
            int generated = 0;
            int events = 0;
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                // The first event is the role; the first token's is the second.
                if (++events == 2)
                {
                    first = Stopwatch.GetElapsedTime(start);
                }

                int usage = line.IndexOf("\"completion_tokens\":", StringComparison.Ordinal);
                if (usage >= 0)
                {
                    string digits = new([.. line.Skip(usage + "\"completion_tokens\":".Length).TakeWhile(char.IsDigit)]);
                    generated = int.Parse(digits, CultureInfo.InvariantCulture);
                }
            }

            return (generated, first);
        })).ConfigureAwait(false);
        return new Run(results.Sum(r => r.Tokens), Stopwatch.GetElapsedTime(start), Median(results.Select(r => r.FirstToken)));
    }

    private static async Task<double> ChunkCostAsync(string modelPath)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(modelPath).ConfigureAwait(false);
        var request = new LocalLlm.Server.ChatCompletionRequest { Messages = [], Options = new ChatOptions(), Stream = true };
        var completion = new LocalLlm.Server.ChatCompletionsEndpoint.ChatCompletion("model", request, model.Tokenizer);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Response.Body = Stream.Null;
        const int Tokens = 200_000;
        long start = 0;
        for (int i = -10_000; i < Tokens; i++)
        {
            start = i == 0 ? Stopwatch.GetTimestamp() : start;
            var update = new ChatResponseUpdate(ChatRole.Assistant, " sea");
            foreach (Action<System.Text.Json.Utf8JsonWriter> chunk in completion.Chunks(0, update))
            {
                await LocalLlm.Server.OpenAiHttp.WriteEventAsync(context.Response, chunk, CancellationToken.None).ConfigureAwait(false);
            }
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / Tokens;
    }

    private static string Prompt(int client) => $"Client {client} asks: tell me about the sea.";

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        TimeSpan[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }

    private static Run Median(List<Run> runs) => runs.OrderBy(r => r.TokensPerSecond).ElementAt(runs.Count / 2);

    private sealed record Run(int Tokens, TimeSpan Elapsed, TimeSpan TimeToFirstToken)
    {
        public double TokensPerSecond => Tokens / Elapsed.TotalSeconds;
    }
}
