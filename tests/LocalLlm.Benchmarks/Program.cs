using System.Diagnostics;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Measures what the SDK's streaming generation costs over llama.cpp itself: the public API and a raw loop over the
/// same native calls, on the same model, prompt and context settings, interleaved in one process.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // Each mode is its own benchmark; without one, the generation benchmark below runs.
        (string Mode, Func<string[], Task<int>> Run)[] modes =
        [
            ("--batched", BatchedBenchmark.RunAsync),
            ("--contention", ContentionBenchmark.RunAsync),
            ("--memory", MemoryBenchmark.RunAsync),
            ("--speculation", SpeculationBenchmark.RunAsync),
            ("--lora", LoraBenchmark.RunAsync),
            ("--rerank", RerankBenchmark.RunAsync),
            ("--rpc", RpcBenchmark.RunAsync),
            ("--server", ServerBenchmark.RunAsync),
            ("--chat", ChatTemplatingBenchmark.RunAsync),
            ("--grammar", GrammarSamplingBenchmark.RunAsync),
        ];
        foreach ((string mode, Func<string[], Task<int>> run) in modes)
        {
            if (args.Contains(mode))
            {
                return await run(args).ConfigureAwait(false);
            }
        }

        BenchmarkSettings? settings;
        try
        {
            settings = BenchmarkSettings.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }

        if (settings is null)
        {
            return 0;
        }

#if DEBUG
        Console.Error.WriteLine("warning: this is a Debug build; run with -c Release for figures worth comparing.");
#endif
        DateTimeOffset started = DateTimeOffset.UtcNow;
        var timer = Stopwatch.StartNew();
        LlamaBackendInfo backend = LlamaBackend.Initialize();
        MachineInfo machine = MachineInfo.Collect(backend);
        Console.WriteLine($"{machine.CpuModel}, {machine.LogicalCores} cores, llama.cpp {machine.LlamaCppVersion}, load {machine.LoadAverageAtStart}");

        if (settings.Diagnose)
        {
            await OverheadDiagnosis.RunAsync(ModelBenchmark.EnsureModel("tiny", settings.ModelDirectory), settings, Console.Out).ConfigureAwait(false);
            return 0;
        }

        var paths = new Dictionary<string, string>();
        foreach (string name in settings.Models)
        {
            var ensure = Stopwatch.StartNew();
            paths[name] = ModelBenchmark.EnsureModel(name, settings.ModelDirectory);
            Console.WriteLine($"{name}: {paths[name]} ({ensure.Elapsed.TotalSeconds:F1} s)");
        }

        var results = new List<ModelResult>();
        foreach (string name in settings.Models)
        {
            results.Add(await ModelBenchmark.RunAsync(name, paths[name], settings, Console.Out).ConfigureAwait(false));
        }

        var report = new BenchmarkReport
        {
            StartedUtc = started,
            DurationSeconds = timer.Elapsed.TotalSeconds,
            Machine = machine,
            Settings = settings,
            Models = results,
        };
        report.WriteTable(Console.Out);
        string json = report.WriteJson(settings.OutputDirectory ?? Path.Combine(MachineInfo.RepoRoot, "artifacts", "bench"));
        Console.WriteLine();
        Console.WriteLine($"JSON: {json}");
        return report.AllPassed ? 0 : 1;
    }
}
