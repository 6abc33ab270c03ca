using System.Globalization;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Speculative decoding against plain decoding in the same run, greedy, one session: prompt lookup on the generated
/// models, whose greedy continuations repeat themselves (a repetitive continuation), and, with a draft model, the 1b
/// target drafted by itself (every draft kept: what the mechanism costs) and by the small model (a real second model
/// whose random weights rarely agree with the target's: what a poor draft costs).
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --speculation [--gen-tokens 128] [--reps 3] [--threads 2]
/// </summary>
internal static class SpeculationBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int tokens = int.Parse(BenchmarkSettings.Option(args, "--gen-tokens", "128"), CultureInfo.InvariantCulture);
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "3"), CultureInfo.InvariantCulture);
        int threads = int.Parse(BenchmarkSettings.Option(args, "--threads", "2"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        Console.WriteLine($"Speculative decoding: {tokens} tokens greedy, {threads} threads, median of {reps}, plain and speculative interleaved; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine("1b* = the 1b model with RepackWeights off (plain kernels)");
        Console.WriteLine($"{"model",-6} {"drafting",-22} | {"plain tok/s",11} {"spec tok/s",10} {"ratio",6} | {"drafted",7} {"kept",6} {"acceptance",10} {"same tokens",11}");
        using LlamaModel small = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel("small", null), new LlamaModelOptions { UseMemoryMap = false }).ConfigureAwait(false);
        using LlamaModel oneB = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel("1b", null), new LlamaModelOptions { UseMemoryMap = false }).ConfigureAwait(false);

        // Plain kernels: a one-token decode and a multi-token one then sum the same way, so a self-draft is the target's
        // own choice even where random weights leave near-ties (with repacked weights the two kernels differ in the
        // last bits, and a fifth of the self-drafts were kept).
        using LlamaModel oneBPlain = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel("1b", null), new LlamaModelOptions { UseMemoryMap = false, RepackWeights = false }).ConfigureAwait(false);
        foreach ((string name, LlamaModel model, string drafting, LlamaSpeculationOptions speculation) in Cases(small, oneB, oneBPlain))
        {
            using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 1024, ThreadCount = threads });
            int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, 64);
            var plainRates = new List<double>();
            var speculativeRates = new List<double>();
            LlamaCompletion? plain = null;
            LlamaCompletion? speculative = null;
            for (int rep = -1; rep < reps; rep++)
            {
                session.Reset();
                plain = await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy }).ConfigureAwait(false);
                session.Reset();
                speculative = await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy, Speculation = speculation }).ConfigureAwait(false);
                if (rep >= 0)
                {
                    plainRates.Add(plain.Usage.GenerationTokensPerSecond);
                    speculativeRates.Add(speculative.Usage.GenerationTokensPerSecond);
                }
            }

            double plainRate = plainRates.Order().ElementAt(reps / 2);
            double speculativeRate = speculativeRates.Order().ElementAt(reps / 2);
            LlamaUsage usage = speculative!.Usage;
            double acceptance = usage.DraftTokens == 0 ? 0 : (double)usage.AcceptedDraftTokens / usage.DraftTokens;
            Console.WriteLine($"{name,-6} {drafting,-22} | {plainRate,11:F1} {speculativeRate,10:F1} {speculativeRate / plainRate,6:F2} | {usage.DraftTokens,7} {usage.AcceptedDraftTokens,6} {acceptance,10:P0} {speculative.TokenIds.SequenceEqual(plain!.TokenIds),11}");
        }

        return 0;
    }

    private static IEnumerable<(string Name, LlamaModel Model, string Drafting, LlamaSpeculationOptions Speculation)> Cases(LlamaModel small, LlamaModel oneB, LlamaModel oneBPlain)
    {
        yield return ("small", small, "prompt lookup", new LlamaSpeculationOptions());
        yield return ("1b", oneB, "prompt lookup", new LlamaSpeculationOptions());
        yield return ("1b", oneB, "1b drafting itself", new LlamaSpeculationOptions { DraftModel = oneB, MaxDraftTokens = 4 });
        yield return ("1b*", oneBPlain, "1b* drafting itself", new LlamaSpeculationOptions { DraftModel = oneBPlain, MaxDraftTokens = 4 });
        yield return ("1b", oneB, "small drafting", new LlamaSpeculationOptions { DraftModel = small, MaxDraftTokens = 4 });
    }
}
