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
        if (args.Contains("--batched"))
        {
            return await BatchedBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--contention"))
        {
            return await ContentionBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--memory"))
        {
            return await MemoryBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--speculation"))
        {
            return await SpeculationBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--lora"))
        {
            return await LoraBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--rerank"))
        {
            return await RerankBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--rpc"))
        {
            return await RpcBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--server"))
        {
            return await ServerBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--chat"))
        {
            return await ChatTemplatingBenchmark.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--grammar"))
        {
            return await GrammarSamplingBenchmark.RunAsync(args).ConfigureAwait(false);
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
