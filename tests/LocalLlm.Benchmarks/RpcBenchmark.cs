using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LocalLlm.Benchmarks;

/// <summary>
/// A model across machines, on loopback: the 1b model local-only, then with its layers on one and on two RPC workers
/// (the packaged rpc-server, on free ports), each run the same greedy generation. Prints prompt and generation speed,
/// what each token costs over the local run (the network round trips and the hand-offs between processes), and the
/// resident memory of the client and of each worker.
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --rpc [--model 1b] [--gen-tokens 64] [--reps 3] [--threads 2]
/// </summary>
internal static class RpcBenchmark
{
    private const int PromptTokens = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        string name = BenchmarkSettings.Option(args, "--model", "1b");
        int tokens = int.Parse(BenchmarkSettings.Option(args, "--gen-tokens", "64"), CultureInfo.InvariantCulture);
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "3"), CultureInfo.InvariantCulture);
        int threads = int.Parse(BenchmarkSettings.Option(args, "--threads", "2"), CultureInfo.InvariantCulture);
        string path = ModelBenchmark.EnsureModel(name, null);
        LlamaBackend.Initialize();
        Console.WriteLine($"Across machines (loopback): {name}, {PromptTokens}-token prompt, {tokens} tokens greedy, median of {reps}; client and each worker {threads} threads; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine("Weights read into memory (not mapped), plain CPU kernels everywhere (RepackWeights off: what a worker's CPU computes), so the runs compare like with like.");
        Console.WriteLine();
        Console.WriteLine($"{"placement",-34} | {"prompt tok/s",12} {"gen tok/s",10} {"ms/token",9} {"+ms/token",9} | {"client MiB",10} {"worker MiB",16}");

        double localMs = 0;
        int[] chosen = [.. BenchmarkSettings.Option(args, "--placements", "0,1,2,3").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        (string, int, int)[] placements = [("local only", 0, 0), ("1 worker, all 17 layers", 1, 17), ("1 worker, last 9 of 17 layers", 1, 9), ("2 workers, all 17 layers (1:1)", 2, 17)];
        foreach ((string label, int workers, int offloaded) in chosen.Select(i => placements[i]))
        {
            var started = new List<Process>();
            try
            {
                var endpoints = new List<string>();
                for (int i = 0; i < workers; i++)
                {
                    (Process process, string endpoint) = await StartWorkerAsync(threads).ConfigureAwait(false);
                    started.Add(process);
                    endpoints.Add(endpoint);
                }

                long before = Resident(Environment.ProcessId);
                var options = new LlamaModelOptions { UseMemoryMap = false, RepackWeights = false, RpcServers = endpoints, GpuLayerCount = offloaded, TensorSplit = workers > 1 ? [.. Enumerable.Repeat(1f, workers)] : [] };
                using LlamaModel model = await LlamaModel.LoadAsync(path, options).ConfigureAwait(false);
                using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 512, ThreadCount = threads });
                int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, PromptTokens);
                var generation = new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy };
                await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = 4, Sampling = LlamaSamplingOptions.Greedy }).ConfigureAwait(false);
                var promptRates = new List<double>();
                var generationMs = new List<double>();
                for (int rep = 0; rep < reps; rep++)
                {
                    session.Reset();
                    LlamaCompletion completion = await session.CompleteAsync(prompt, generation).ConfigureAwait(false);
                    promptRates.Add(completion.Usage.PromptTokensPerSecond);
                    generationMs.Add(completion.Usage.GenerationTime.TotalMilliseconds / Math.Max(1, completion.Usage.GeneratedTokens));
                }

                double ms = Median(generationMs);
                localMs = workers == 0 ? ms : localMs;
                string workerMemory = started.Count == 0 ? "-" : string.Join(" + ", started.Select(p => (Resident(p.Id) / 1048576).ToString(CultureInfo.InvariantCulture)));
                // Off the session's own thread before the using scope ends: a session disposed from its thread's
                // continuation frees its context when that thread exits, and freeing talks to the workers, so it must
                // happen before they stop.
                await Task.Yield();
                Console.WriteLine($"{label,-34} | {Median(promptRates),12:F1} {1000 / ms,10:F1} {ms,9:F2} {(workers == 0 ? "-" : (ms - localMs).ToString("F2", CultureInfo.InvariantCulture)),9} | {(Resident(Environment.ProcessId) - before) / 1048576,10} {workerMemory,16}");
            }
            finally
            {
                foreach (Process process in started)
                {
                    process.Kill();
                    await process.WaitForExitAsync().ConfigureAwait(false);
                    process.Dispose();
                }
            }
        }

        return 0;
    }

    private static async Task<(Process Process, string Endpoint)> StartWorkerAsync(int threads)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "rpc-server")) { RedirectStandardOutput = true, RedirectStandardError = true };
        bool show = Environment.GetEnvironmentVariable("LOCALLLM_SHOW_WORKERS") == "1";
        foreach (string argument in new[] { "-p", port.ToString(CultureInfo.InvariantCulture), "-t", threads.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (show && e.Data is not null) { Console.Error.WriteLine($"[worker {port}] {e.Data}"); } };
        process.ErrorDataReceived += (_, e) => { if (show && e.Data is not null) { Console.Error.WriteLine($"[worker {port}] {e.Data}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string endpoint = $"127.0.0.1:{port}";
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await LlamaRpcWorker.ProbeAsync(endpoint).ConfigureAwait(false);
                return (process, endpoint);
            }
            catch (LlamaRpcWorkerException) when (attempt < 100)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static long Resident(int processId) => ProcessMemory.ResidentBytes(processId);
}
