using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LocalLlm.ModelGenerator;
using LocalLlm.Native;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Continuous batching: aggregate generation throughput of B concurrent streams through <see cref="LlamaScheduler"/>
/// next to a raw batched native loop (one context, B sequences, one decode per step), in the same run.
///   dotnet run -c Release --project tests/LocalLlm.Benchmarks -- --batched [--models small,1b] [--streams 1,2,4,8] [--reps 3] [--gen-tokens 128]
/// </summary>
internal static class BatchedBenchmark
{
    private const int PromptTokens = 32;
    private const int ContextPerSequence = 256;
    private const int Threads = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        string[] models = BenchmarkSettings.Option(args, "--models", "small,1b").Split(',');
        int[] streams = BenchmarkSettings.Option(args, "--streams", "1,2,4,8").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "3"), CultureInfo.InvariantCulture);
        int tokens = int.Parse(BenchmarkSettings.Option(args, "--gen-tokens", "128"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        Console.WriteLine($"Batched generation: {PromptTokens}-token prompts, {tokens} tokens per stream, {Threads} threads, greedy; median of {reps}");
        Console.WriteLine("model  streams | SDK tok/s  raw tok/s  ratio | vs 1 stream (SDK) | TTFT median ms");
        var rows = new List<object>();
        var failures = new List<string>();
        foreach (string name in models)
        {
            using LlamaModel model = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel(name, null)).ConfigureAwait(false);
            double single = double.NaN;
            foreach (int b in streams)
            {
                int[][] prompts = Enumerable.Range(0, b).Select(i => Prompt(model.Tokenizer, i)).ToArray();
                var sdk = new List<double>();
                var raw = new List<double>();
                var ttft = new List<double>();
                using (var scheduler = new LlamaScheduler(model, new LlamaSchedulerOptions { ParallelSequences = b, ContextSizePerSequence = ContextPerSequence, ThreadCount = Threads }))
                using (var rawLoop = new RawBatchedLoop(model, b))
                {
                    await RunSdkAsync(scheduler, prompts, tokens).ConfigureAwait(false); // warm-up
                    await RunOffTheSchedulerAsync(rawLoop, prompts, tokens).ConfigureAwait(false);
                    for (int rep = 0; rep < reps; rep++)
                    {
                        (double tokensPerSecond, double firstTokenMs) = await RunSdkAsync(scheduler, prompts, tokens).ConfigureAwait(false);
                        sdk.Add(tokensPerSecond);
                        ttft.Add(firstTokenMs);
                        raw.Add(await RunOffTheSchedulerAsync(rawLoop, prompts, tokens).ConfigureAwait(false));
                    }
                }

                double sdkMedian = Statistics.Median(sdk);
                double rawMedian = Statistics.Median(raw);
                single = b == 1 ? sdkMedian : single;
                double ratio = sdkMedian / rawMedian;
                double scaling = sdkMedian / single;
                Console.WriteLine($"{name,-6} {b,7} | {sdkMedian,9:F1}  {rawMedian,9:F1}  {ratio,5:F3} | {scaling,17:F2} | {Statistics.Median(ttft),14:F0}");
                rows.Add(new { model = name, streams = b, sdkTokensPerSecond = sdk, rawTokensPerSecond = raw, timeToFirstTokenMs = ttft, ratio, scalingVersusOneStream = scaling });
                if (ratio < 0.9)
                {
                    failures.Add($"{name} B={b}: SDK/raw {ratio:F3} < 0.9");
                }

                if (name == "1b" && b == 8 && scaling < 1.6)
                {
                    failures.Add($"1b B=8: {scaling:F2}x the single-stream rate < 1.6x");
                }
            }
        }

        string directory = Path.Combine(GeneratedModels.DefaultOutputDirectory, "..", "..", "artifacts", "bench");
        Directory.CreateDirectory(directory);
        string file = Path.GetFullPath(Path.Combine(directory, $"batched-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { threads = Threads, promptTokens = PromptTokens, tokensPerStream = tokens, reps, rows }, JsonOptions)).ConfigureAwait(false);
        Console.WriteLine(failures.Count == 0 ? "[PASS] all batching targets" : string.Join(Environment.NewLine, failures.Select(f => $"[FAIL] {f}")));
        Console.WriteLine($"JSON: {file}");
        return 0;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static async Task<(double TokensPerSecond, double FirstTokenMs)> RunSdkAsync(LlamaScheduler scheduler, int[][] prompts, int tokens)
    {
        var options = new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy };
        long start = Stopwatch.GetTimestamp();
        LlamaCompletion[] results = await Task.WhenAll(prompts.Select(p => Complete(scheduler, p, options))).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (results.Sum(r => r.TokenIds.Count) / seconds, Statistics.Median(results.Select(r => r.Usage.TimeToFirstToken!.Value.TotalMilliseconds)));
    }

    // The code after a finished stream continues on the scheduler's thread until it awaits; the raw loop must not run
    // there, where it would hold the scheduler's thread for its whole run.
    private static Task<double> RunOffTheSchedulerAsync(RawBatchedLoop rawLoop, int[][] prompts, int tokens) =>
        Task.Factory.StartNew(() => rawLoop.Run(prompts, tokens), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static async Task<LlamaCompletion> Complete(LlamaScheduler scheduler, int[] prompt, LlamaGenerationOptions options)
    {
        var tokens = new List<int>();
        await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(prompt, options).ConfigureAwait(false))
        {
            if (update.TokenId is { } token)
            {
                tokens.Add(token);
            }

            if (update.FinishReason is { } reason)
            {
                return new LlamaCompletion(string.Empty, tokens, reason, update.Usage!);
            }
        }

        throw new InvalidOperationException("no final update");
    }

    private static int[] Prompt(LlamaTokenizer tokenizer, int index) =>
        ModelBenchmark.BuildPrompt(tokenizer, PromptTokens + index)[index..];


    /// <summary>One context, B sequences: all prompts in one decode, then one decode of B tokens per step.</summary>
    /// <summary>The raw batched native loop: one context, one decode per step for every sequence, fixed threads.</summary>
    internal sealed unsafe class RawBatchedLoop : IDisposable
    {
        private readonly LlamaModel _model;
        private readonly SafeLlamaContextHandle _context;
        private readonly int _sequences;
        private readonly NativeBatch _batch;

        public RawBatchedLoop(LlamaModel model, int sequences, int threads = Threads)
        {
            _model = model;
            _sequences = sequences;
            llama_context_params parameters = NativeMethods.llama_context_default_params();
            parameters.n_ctx = (uint)(ContextPerSequence * sequences);
            parameters.n_batch = 512;
            parameters.n_ubatch = 512;
            parameters.n_seq_max = (uint)sequences;
            parameters.kv_unified = 0;
            parameters.n_threads = threads;
            parameters.n_threads_batch = threads;
            _context = SafeLlamaContextHandle.Create(model.Handle, parameters);
            _batch = new NativeBatch(512);
        }

        /// <summary>Generates up to <paramref name="tokens"/> per sequence, stopping early after <paramref name="deadline"/>; returns tokens/s.</summary>
        public double Run(int[][] prompts, int tokens, long deadline = long.MaxValue)
        {
            NativeMethods.llama_memory_clear(NativeMethods.llama_get_memory(_context), true);
            var samplers = new SafeLlamaSamplerHandle[_sequences];
            var rows = new int[_sequences];
            var positions = new int[_sequences];
            Span<byte> piece = stackalloc byte[256];
            long start = Stopwatch.GetTimestamp();
            _batch.Clear();
            for (int s = 0; s < _sequences; s++)
            {
                samplers[s] = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
                NativeMethods.llama_sampler_chain_add(samplers[s], NativeMethods.llama_sampler_init_greedy());
                for (int t = 0; t < prompts[s].Length; t++)
                {
                    rows[s] = _batch.Add(prompts[s][t], t, s, t == prompts[s].Length - 1);
                }

                positions[s] = prompts[s].Length;
            }

            int generated = 0;
            for (int step = 0; step < tokens && Stopwatch.GetTimestamp() < deadline; step++)
            {
                _context.Decode(_batch);
                var next = new int[_sequences];
                for (int s = 0; s < _sequences; s++)
                {
                    next[s] = NativeMethods.llama_sampler_sample(samplers[s], _context, rows[s]);
                    _ = NativeMethods.llama_vocab_is_eog(_model.Tokenizer.Vocabulary.Pointer, next[s]);
                    fixed (byte* buffer = piece)
                    {
                        NativeMethods.llama_token_to_piece(_model.Tokenizer.Vocabulary.Pointer, next[s], buffer, piece.Length, 0, false);
                    }

                    generated++;
                }

                _batch.Clear();
                for (int s = 0; s < _sequences && step + 1 < tokens; s++)
                {
                    rows[s] = _batch.Add(next[s], positions[s]++, s, output: true);
                }
            }

            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            foreach (SafeLlamaSamplerHandle sampler in samplers)
            {
                sampler.Dispose();
            }

            return generated / seconds;
        }

        public void Dispose()
        {
            _batch.Dispose();
            _context.Dispose();
        }
    }
}
