using System.Globalization;

namespace LocalLlm.Benchmarks;

/// <summary>
/// How good the header-only memory estimate is: <see cref="LlamaModel.EstimateMemory"/> for a model read into memory
/// (not mapped, so its pages count) and one context, against the growth of the process's resident memory. Weights and
/// KV cache are written when the model loads and the context is made, so the comparison is taken there. The compute
/// buffers are reserved for the worst case (a micro-batch with every token's logits), and a prompt touches only part of
/// them, so they are shown beside it: reserved, and the growth over decoding a 512-token prompt.
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
        Console.WriteLine($"Memory: estimate from the GGUF header against resident-memory growth; weights read into memory, a {contextSize}-token context");
        Console.WriteLine("vocabulary = resident growth of a vocabulary-only load: llama.cpp's token tables live outside ggml's buffers, so no estimate from buffers sees them");
        Console.WriteLine($"{"model",-6} | {"weights",9} {"KV",8} {"estimate",9} | {"measured",9} | {"ratio",6} | {"vocabulary",10} {"ratio with it",13} | {"compute reserved",16} {"touched by a prompt",19}");
        var goals = new List<(string, bool)>();
        foreach (string name in models)
        {
            string path = ModelBenchmark.EnsureModel(name, null);
            var modelOptions = new LlamaModelOptions { UseMemoryMap = false };
            var contextOptions = new LlamaContextOptions { ContextSize = contextSize, ThreadCount = 2 };
            LlamaMemoryEstimate estimate = LlamaModel.EstimateMemory(path, modelOptions, contextOptions);
            GC.Collect();
            long vocabularyBefore = ResidentBytes();
            long vocabulary;
            using (LlamaModel vocabularyOnly = await LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true }).ConfigureAwait(false))
            {
                vocabulary = ResidentBytes() - vocabularyBefore;
            }

            GC.Collect();
            long before = ResidentBytes();
            long loaded;
            long decoded;
            using (LlamaModel model = await LlamaModel.LoadAsync(path, modelOptions).ConfigureAwait(false))
            using (var session = new LlamaSession(model, contextOptions))
            {
                loaded = ResidentBytes();
                int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, 512);
                await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = 1, Sampling = LlamaSamplingOptions.Greedy }).ConfigureAwait(false);
                decoded = ResidentBytes();
            }

            LlamaDeviceMemoryEstimate host = estimate.Devices[^1];
            long weightsAndCache = host.ModelBytes + host.ContextBytes;
            double ratio = (double)weightsAndCache / (loaded - before);
            double withVocabulary = (double)(weightsAndCache + vocabulary) / (loaded - before);
            Console.WriteLine($"{name,-6} | {Mib(host.ModelBytes),9} {Mib(host.ContextBytes),8} {Mib(weightsAndCache),9} | {Mib(loaded - before),9} | {ratio,6:F3} | {Mib(vocabulary),10} {withVocabulary,13:F3} | {Mib(host.ComputeBytes),16} {Mib(decoded - loaded),19}");
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
