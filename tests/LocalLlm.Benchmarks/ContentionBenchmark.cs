using System.Diagnostics;
using System.Globalization;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Steadiness and load: every generation step's time, for the SDK (its defaults: a persistent threadpool and a thread
/// budget that gives way to other processes) and the raw loop (llama.cpp's own threads, made per decode, all the
/// configured threads always), on a quiet machine and while one, then two, CPU-bound competitor processes spin.
/// Each run is bounded in time, since a collapsed run can fall to a token per second.
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --contention [--models tiny,small,1b]
///     [--gen-tokens 128] [--reps 3] [--run-seconds 6] [--threads N] [--competitors 0,1,2] [--polling 0-100] [--fixed-threads] [--mmap]
/// </summary>
internal static class ContentionBenchmark
{
    private const int PromptTokens = 32;
    private const double MinimumQuietRatio = 0.97;
    private const double MaximumP90OverMedian = 1.15;
    private const double MinimumContendedShare = 0.5;
    private const int Streams = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        string[] models = BenchmarkSettings.Option(args, "--models", "tiny,small,1b").Split(',');
        int tokens = Int(args, "--gen-tokens", 128);
        int reps = Int(args, "--reps", 3);
        TimeSpan runLimit = TimeSpan.FromSeconds(Int(args, "--run-seconds", 6));
        int threads = Int(args, "--threads", CpuTopology.PhysicalCoreCount);
        int polling = Int(args, "--polling", new LlamaContextOptions().ThreadPolling);
        bool adapt = !args.Contains("--fixed-threads");
        int[] competitorCounts = BenchmarkSettings.Option(args, "--competitors", "0,1,2").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        LlamaBackend.Initialize();
        Console.WriteLine($"Steady decoding: {PromptTokens}-token prompt, up to {tokens} tokens per run (at most {runLimit.TotalSeconds:F0} s), {threads} threads (SDK: polling {polling}, {(adapt ? "adapting to load" : "fixed")}), greedy; {reps} runs per side, interleaved; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine("Steps are token-to-token intervals over all runs. SDK = LlamaSession with its defaults; raw = llama.cpp's own loop, fixed threads.");
        Console.WriteLine();
        Console.WriteLine($"{"model",-6} {"competitors",11} {"side",-4} | {"tok/s",8} {"mean ms",8} {"median",8} {"p90",8} {"max",8} | {"p90/med",7} {"steps",6}");
        var goals = new List<(string Goal, bool Passed)>();
        foreach (string name in models)
        {
            // Read into memory, not mapped: on a VM whose host reclaims cold page-cache pages, mapped weights fault back
            // in from disk mid-generation (steps of 200-400 ms on 1b, SDK and raw alike).
            using LlamaModel model = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel(name, null), new LlamaModelOptions { UseMemoryMap = args.Contains("--mmap") }).ConfigureAwait(false);
            int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, PromptTokens);
            var options = new LlamaContextOptions { ContextSize = 1024, ThreadCount = threads, ThreadPolling = polling, AdaptThreadsToLoad = adapt };
            using var session = new LlamaSession(model, options);
            using var raw = new RawGeneration(model, options);
            var quiet = new Dictionary<string, StepSummary>();
            foreach (int competitors in competitorCounts)
            {
                using Competitors running = Competitors.Start(competitors);

                // Unmeasured runs per side under the same load, for at least a second: the SDK's budget takes a quarter
                // second to see the load, and .NET's tiered JIT recompiles hot methods on a background thread (holding a
                // core) during the first second or so of a loop's life. Steady state is what the goals are about.
                long warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
                do
                {
                    await RunSdkAsync(session, prompt, tokens, runLimit).ConfigureAwait(false);
                    await RunRawAsync(raw, prompt, tokens, runLimit).ConfigureAwait(false);
                }
                while (Stopwatch.GetTimestamp() < warmUntil);
                var sdkSteps = new List<double>();
                var rawSteps = new List<double>();
                for (int rep = 0; rep < reps; rep++)
                {
                    sdkSteps.AddRange(await RunSdkAsync(session, prompt, tokens, runLimit).ConfigureAwait(false));
                    rawSteps.AddRange(await RunRawAsync(raw, prompt, tokens, runLimit).ConfigureAwait(false));
                }

                StepSummary sdk = StepSummary.Of(sdkSteps);
                StepSummary rawSummary = StepSummary.Of(rawSteps);
                Console.WriteLine(sdk.Row(name, competitors, "SDK"));
                Console.WriteLine(rawSummary.Row(name, competitors, "raw"));
                if (competitors == 0)
                {
                    quiet["SDK"] = sdk;
                    quiet["raw"] = rawSummary;
                    goals.Add(($"{name} quiet: SDK mean generation {sdk.TokensPerSecond / rawSummary.TokensPerSecond:F3} of raw (>= {MinimumQuietRatio})", sdk.TokensPerSecond >= MinimumQuietRatio * rawSummary.TokensPerSecond));
                    goals.Add(($"{name} quiet: SDK p90 step {sdk.P90OverMedian:F2}x its median (<= {MaximumP90OverMedian})", sdk.P90OverMedian <= MaximumP90OverMedian));
                }
                else if (quiet.TryGetValue("SDK", out StepSummary? calm))
                {
                    double share = sdk.TokensPerSecond / calm.TokensPerSecond;
                    double rawShare = rawSummary.TokensPerSecond / quiet["raw"].TokensPerSecond;
                    string goal = $"{name} with {competitors} competitor{(competitors == 1 ? "" : "s")}: SDK keeps {share:F2} of its quiet rate (raw keeps {rawShare:F2})";
                    goals.Add(competitors == 1 ? ($"{goal} (>= {MinimumContendedShare})", share >= MinimumContendedShare) : (goal, true));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Continuous batching, {Streams} streams of up to {tokens / 2} tokens (at most {runLimit.TotalSeconds:F0} s), aggregate tok/s, median of {reps}: SDK = LlamaScheduler, raw = one batched native loop");
        Console.WriteLine($"{"model",-6} {"competitors",11} | {"SDK",8} {"raw",8} | {"SDK/raw",7} {"SDK vs quiet",12}");
        foreach (string name in models)
        {
            using LlamaModel model = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel(name, null), new LlamaModelOptions { UseMemoryMap = args.Contains("--mmap") }).ConfigureAwait(false);
            int[][] prompts = Enumerable.Range(0, Streams).Select(_ => ModelBenchmark.BuildPrompt(model.Tokenizer, PromptTokens)).ToArray();
            using var scheduler = new LlamaScheduler(model, new LlamaSchedulerOptions { ParallelSequences = Streams, ContextSizePerSequence = 512, ThreadCount = threads, ThreadPolling = polling, AdaptThreadsToLoad = adapt });
            using var rawLoop = new BatchedBenchmark.RawBatchedLoop(model, Streams, threads);
            double quietSdk = double.NaN;
            foreach (int competitors in competitorCounts)
            {
                using Competitors running = Competitors.Start(competitors);
                await RunSchedulerAsync(scheduler, prompts, tokens / 2, runLimit).ConfigureAwait(false);
                await RunRawBatchedAsync(rawLoop, prompts, tokens / 2, runLimit).ConfigureAwait(false);
                var sdk = new List<double>();
                var raw = new List<double>();
                for (int rep = 0; rep < reps; rep++)
                {
                    sdk.Add(await RunSchedulerAsync(scheduler, prompts, tokens / 2, runLimit).ConfigureAwait(false));
                    raw.Add(await RunRawBatchedAsync(rawLoop, prompts, tokens / 2, runLimit).ConfigureAwait(false));
                }

                double sdkMedian = Statistics.Median(sdk);
                double rawMedian = Statistics.Median(raw);
                quietSdk = competitors == 0 ? sdkMedian : quietSdk;
                Console.WriteLine($"{name,-6} {competitors,11} | {sdkMedian,8:F1} {rawMedian,8:F1} | {sdkMedian / rawMedian,7:F2} {sdkMedian / quietSdk,12:F2}");
                if (competitors == 0)
                {
                    goals.Add(($"{name} batched quiet: SDK {sdkMedian / rawMedian:F3} of raw (>= {MinimumQuietRatio})", sdkMedian >= MinimumQuietRatio * rawMedian));
                }
                else if (competitors == 1)
                {
                    goals.Add(($"{name} batched with 1 competitor: SDK keeps {sdkMedian / quietSdk:F2} of its quiet rate (>= {MinimumContendedShare})", sdkMedian >= MinimumContendedShare * quietSdk));
                }
            }
        }

        Console.WriteLine();
        foreach ((string goal, bool passed) in goals)
        {
            Console.WriteLine($"{(passed ? "PASS" : "FAIL")}  {goal}");
        }

        return goals.TrueForAll(g => g.Passed) ? 0 : 1;
    }

    private static async Task<List<double>> RunSdkAsync(LlamaSession session, int[] prompt, int tokens, TimeSpan limit)
    {
        session.Reset();
        var stamps = new List<long>(tokens);
        long deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var options = new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy };
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, options).ConfigureAwait(false))
        {
            if (update.TokenId is not null)
            {
                stamps.Add(Stopwatch.GetTimestamp());
                if (stamps[^1] > deadline)
                {
                    break;
                }
            }
        }

        return Steps(stamps);
    }

    private static async Task<double> RunSchedulerAsync(LlamaScheduler scheduler, int[][] prompts, int tokens, TimeSpan limit)
    {
        using var stop = new CancellationTokenSource(limit);
        var options = new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy };
        int generated = 0;
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(prompts.Select(async prompt =>
        {
            try
            {
                await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(prompt, options, stop.Token).ConfigureAwait(false))
                {
                    if (update.TokenId is not null)
                    {
                        Interlocked.Increment(ref generated);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The run's time was up: what was generated counts.
            }
        })).ConfigureAwait(false);
        return generated / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static Task<double> RunRawBatchedAsync(BatchedBenchmark.RawBatchedLoop raw, int[][] prompts, int tokens, TimeSpan limit) =>
        Task.Factory.StartNew(
            () => raw.Run(prompts, tokens, Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency)),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    // Off the session's loop thread, where the code after a finished stream continues until it awaits.
    private static Task<List<double>> RunRawAsync(RawGeneration raw, int[] prompt, int tokens, TimeSpan limit) =>
        Task.Factory.StartNew(
            () =>
            {
                int[] generated = new int[tokens];
                long[] stamps = new long[tokens];
                long deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
                RunMeasurement run = raw.Run(prompt, tokens, generated, stamps, deadline);
                return Steps(stamps.Take(run.GeneratedTokens).ToList());
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static List<double> Steps(List<long> stamps) =>
        stamps.Zip(stamps.Skip(1), (a, b) => (b - a) * 1000.0 / Stopwatch.Frequency).ToList();

    private static int Int(string[] args, string name, int fallback) =>
        int.Parse(BenchmarkSettings.Option(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>Step times in milliseconds, summarised.</summary>
    private sealed record StepSummary(int Steps, double TokensPerSecond, double Mean, double Median, double P90, double Max)
    {
        public double P90OverMedian => P90 / Median;

        public static StepSummary Of(List<double> steps)
        {
            double[] sorted = [.. steps.Order()];
            double mean = sorted.Length == 0 ? double.NaN : sorted.Average();
            return new StepSummary(sorted.Length, 1000 / mean, mean, Statistics.Percentile(sorted, 0.5), Statistics.Percentile(sorted, 0.9), sorted.Length == 0 ? double.NaN : sorted[^1]);
        }

        public string Row(string model, int competitors, string side) =>
            $"{model,-6} {competitors,11} {side,-4} | {TokensPerSecond,8:F1} {Mean,8:F2} {Median,8:F2} {P90,8:F2} {Max,8:F2} | {P90OverMedian,7:F2} {Steps,6}";
    }

    /// <summary>CPU-bound processes that spin until disposed.</summary>
    private sealed class Competitors : IDisposable
    {
        private readonly List<Process> _processes;

        private Competitors(List<Process> processes) => _processes = processes;

        public static Competitors Start(int count)
        {
            var processes = new List<Process>();
            for (int i = 0; i < count; i++)
            {
                processes.Add(Process.Start(new ProcessStartInfo("sh") { ArgumentList = { "-c", "while :; do :; done" } })!);
            }

            Thread.Sleep(count > 0 ? 300 : 0);
            return new Competitors(processes);
        }

        public void Dispose()
        {
            foreach (Process process in _processes)
            {
                process.Kill();
                process.WaitForExit();
                process.Dispose();
            }
        }
    }
}
