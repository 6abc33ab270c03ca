using System.Globalization;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Benchmarks;

/// <summary>
/// What LoRA adapters cost per token: the small model (Q4_0) generating greedily with no adapter, one and two rank-16
/// adapters on every layer's query, value and FFN-down projections, interleaved, in one process.
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --lora [--gen-tokens 128] [--reps 5] [--threads 2]
/// </summary>
internal static class LoraBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int tokens = int.Parse(BenchmarkSettings.Option(args, "--gen-tokens", "128"), CultureInfo.InvariantCulture);
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "5"), CultureInfo.InvariantCulture);
        int threads = int.Parse(BenchmarkSettings.Option(args, "--threads", "2"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        string directory = Path.Combine(Path.GetTempPath(), $"localllm-lora-bench-{Environment.ProcessId}");
        using LlamaModel model = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel("small", null), new LlamaModelOptions { UseMemoryMap = false }).ConfigureAwait(false);
        using LlamaLoraAdapter first = LlamaLoraAdapter.Load(model, LoraAdapterWriter.Write(Path.Combine(directory, "first.gguf"), ModelShape.Small, [new LoraPart(16, 1)]));
        using LlamaLoraAdapter second = LlamaLoraAdapter.Load(model, LoraAdapterWriter.Write(Path.Combine(directory, "second.gguf"), ModelShape.Small, [new LoraPart(16, 2)]));
        Directory.Delete(directory, recursive: true);
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 512, ThreadCount = threads });
        int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, 32);
        (string Label, LlamaLoraApplication[] Adapters)[] sides = [("no adapter", []), ("1 adapter", [new(first)]), ("2 adapters", [new(first), new(second)])];
        var rates = sides.ToDictionary(s => s.Label, _ => new List<double>());
        Console.WriteLine($"LoRA: small (Q4_0), rank-16 adapters on attn_q, attn_v and ffn_down of all 30 layers, {tokens} tokens greedy, {threads} threads, median of {reps}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        for (int rep = -1; rep < reps; rep++)
        {
            foreach ((string label, LlamaLoraApplication[] adapters) in sides)
            {
                session.Reset();
                LlamaCompletion completion = await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy, Adapters = adapters }).ConfigureAwait(false);
                if (rep >= 0)
                {
                    rates[label].Add(completion.Usage.GenerationTokensPerSecond);
                }
            }
        }

        double baseRate = rates["no adapter"].Order().ElementAt(reps / 2);
        Console.WriteLine($"{"adapters",-12} | {"tok/s",8} {"ms/token",9} {"+ms/token",9} {"ratio",6}");
        foreach ((string label, _) in sides)
        {
            double rate = rates[label].Order().ElementAt(reps / 2);
            Console.WriteLine($"{label,-12} | {rate,8:F1} {1000 / rate,9:F2} {(1000 / rate) - (1000 / baseRate),9:F2} {rate / baseRate,6:F3}");
        }

        return 0;
    }
}
