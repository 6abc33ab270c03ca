using System.Globalization;

namespace LocalLlm.Benchmarks;

/// <summary>
/// How good the header-only memory estimate is: <see cref="LlamaModel.EstimateMemory"/> for a model read into memory
/// (not mapped, so its pages count) and one context, against the growth of the process's resident memory over loading
/// the model, making the context and decoding a prompt as long as one micro-batch (so the compute buffers are touched).
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --memory [--models tiny,small,1b] [--context 2048]
/// </summary>
internal static class MemoryBenchmark
{
    private const double Tolerance = 0.10;

    public static async Task<int> RunAsync(string[] args)
    {
        string[] models = BenchmarkSettings.Option(args, "--models", "tiny,small,1b").Split(',');
        int contextSize = int.Parse(BenchmarkSettings.Option(args, "--context", "2048"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        Console.WriteLine($"Memory: estimate from the GGUF header against resident-memory growth; weights read into memory, a {contextSize}-token context, a 512-token prompt decoded");
        Console.WriteLine($"{"model",-6} | {"weights",9} {"KV",8} {"compute",8} {"estimate",9} | {"measured",9} | {"ratio",6}");
        var goals = new List<(string, bool)>();
        foreach (string name in models)
        {
            string path = ModelBenchmark.EnsureModel(name, null);
            var modelOptions = new LlamaModelOptions { UseMemoryMap = false };
            var contextOptions = new LlamaContextOptions { ContextSize = contextSize, ThreadCount = 2 };
            LlamaMemoryEstimate estimate = LlamaModel.EstimateMemory(path, modelOptions, contextOptions);
            GC.Collect();
            long before = ResidentBytes();
            long after;
            using (LlamaModel model = await LlamaModel.LoadAsync(path, modelOptions).ConfigureAwait(false))
            using (var session = new LlamaSession(model, contextOptions))
            {
                int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, 512);
                await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = 1, Sampling = LlamaSamplingOptions.Greedy }).ConfigureAwait(false);
                after = ResidentBytes();
            }

            LlamaDeviceMemoryEstimate host = estimate.Devices[^1];
            double ratio = (double)estimate.TotalBytes / (after - before);
            Console.WriteLine($"{name,-6} | {Mib(host.ModelBytes),9} {Mib(host.ContextBytes),8} {Mib(host.ComputeBytes),8} {Mib(estimate.TotalBytes),9} | {Mib(after - before),9} | {ratio,6:F3}");
            goals.Add(($"{name}: estimate {ratio:F3} of the measured growth (within {Tolerance:P0})", Math.Abs(ratio - 1) <= Tolerance));
        }

        Console.WriteLine();
        foreach ((string goal, bool passed) in goals)
        {
            Console.WriteLine($"{(passed ? "PASS" : "FAIL")}  {goal}");
        }

        return goals.TrueForAll(g => g.Item2) ? 0 : 1;
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0:F1}M";

    private static long ResidentBytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
