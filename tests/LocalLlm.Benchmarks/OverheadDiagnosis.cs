using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using LocalLlm.Native;

namespace LocalLlm.Benchmarks;

/// <summary>
/// <c>--diagnose</c>: splits the SDK's per-token overhead on the tiny model into its parts by adding the SDK's
/// ingredients to the raw loop one at a time (llama.cpp's abort callback, the managed per-token work, the hand-off to
/// another thread through a channel), all interleaved with the raw loop and the SDK itself.
/// </summary>
internal static class OverheadDiagnosis
{
    private static readonly string[] Variants =
    [
        "raw loop",
        "raw + abort callback",
        "raw + SDK per-token managed work (same thread)",
        "raw + managed work + worker thread -> channel -> async reader",
        "same, channel with AllowSynchronousContinuations (proposal)",
        "SDK StreamAsync",
    ];

    public static async Task RunAsync(string path, BenchmarkSettings settings, TextWriter log)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(path).ConfigureAwait(false);
        int promptLength = Math.Min(settings.PromptTokens, 64);
        int maxTokens = Math.Min(settings.ContextSize - promptLength - 1, 2 * settings.GenerationTokens);
        int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, promptLength);
        var options = new LlamaContextOptions
        {
            ContextSize = settings.ContextSize,
            BatchSize = settings.BatchSize,
            MicroBatchSize = settings.MicroBatchSize,
            ThreadCount = settings.Threads,
        };

        using var session = new LlamaSession(model, options);
        using var plain = new Loop(model, options, abortCallback: false);
        using var withAbort = new Loop(model, options, abortCallback: true);
        int[] tokens = new int[maxTokens];
        long[] stamps = new long[maxTokens];
        var results = Variants.Select(_ => new List<RunMeasurement>()).ToArray();
        var steps = Variants.Select(_ => new List<double>()).ToArray();
        int discarded = 0;
        int reps = settings.TinyRepetitions;
        log.WriteLine($"diagnose: tiny, {promptLength}-token prompt, {maxTokens} generated tokens, {reps} rounds of {Variants.Length} variants");
        for (int rep = -1; rep < reps; rep++)
        {
            for (int v = 0; v < Variants.Length; v++)
            {
                // Rotate the order each round.
                int variant = (v + Math.Max(rep, 0)) % Variants.Length;
                RunMeasurement run = null!;
                for (int attempt = 0; attempt < settings.MaxAttempts; attempt++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    LoadProbe probe = LoadProbe.Start();
                    run = variant switch
                    {
                        0 => plain.Run(prompt, maxTokens, tokens, stamps, managedWork: false),
                        1 => withAbort.Run(prompt, maxTokens, tokens, stamps, managedWork: false),
                        2 => plain.Run(prompt, maxTokens, tokens, stamps, managedWork: true),
                        3 => await plain.RunOnWorkerAsync(prompt, maxTokens, tokens, stamps, synchronousContinuations: false).ConfigureAwait(false),
                        4 => await plain.RunOnWorkerAsync(prompt, maxTokens, tokens, stamps, synchronousContinuations: true).ConfigureAwait(false),
                        _ => await SdkGeneration.RunAsync(session, prompt, maxTokens, tokens, stamps).ConfigureAwait(false),
                    };
                    if (probe.OthersShare() <= settings.MaxOtherLoad)
                    {
                        break;
                    }

                    discarded++;
                }

                if (rep >= 0)
                {
                    results[variant].Add(run);
                    for (int i = 1; i < run.GeneratedTokens; i++)
                    {
                        steps[variant].Add((stamps[i] - stamps[i - 1]) * 1_000_000.0 / Stopwatch.Frequency);
                    }
                }
            }
        }

        log.WriteLine($"{discarded} runs repeated because other processes used more than {settings.MaxOtherLoad:P0} of the CPU");
        double baseline = Statistics.Median(results[0].Select(r => r.MicrosecondsPerToken));
        double baselineStep = Statistics.Median(results[0].Select(r => r.MedianStepMicroseconds));
        log.WriteLine();
        log.WriteLine($"{"variant",-62} {"µs/token",9} {"+ vs raw",9} {"step µs",9} {"+ vs raw",9} {"B/token",8} | all steps: {"p10",7} {"p50",7} {"p90",7} {"p99",7} {"max",7} {">2xp50",7}");
        for (int v = 0; v < Variants.Length; v++)
        {
            double perToken = Statistics.Median(results[v].Select(r => r.MicrosecondsPerToken));
            double step = Statistics.Median(results[v].Select(r => r.MedianStepMicroseconds));
            double bytes = Statistics.Median(results[v].Select(r => r.AllocatedBytesPerToken));
            double[] sorted = [.. steps[v].Order()];
            double p50 = Statistics.Percentile(sorted, 0.5);
            log.WriteLine(
                $"{Variants[v],-62} {perToken,9:F1} {perToken - baseline,9:F1} {step,9:F1} {step - baselineStep,9:F1} {bytes,8:F0} | " +
                $"{"",11} {Statistics.Percentile(sorted, 0.1),7:F0} {p50,7:F0} {Statistics.Percentile(sorted, 0.9),7:F0} {Statistics.Percentile(sorted, 0.99),7:F0} {sorted[^1],7:F0} {sorted.Count(x => x > 2 * p50),7}");
        }
    }


    /// <summary>What the abort callback reads, as LlamaSession's does: one volatile flag behind a GCHandle.</summary>
    private sealed class AbortFlag
    {
        private volatile bool _abort;

        public bool Abort
        {
            get => _abort;
            set => _abort = value;
        }
    }

    /// <summary>The raw loop, optionally with an abort callback on its context and the SDK's managed per-token work.</summary>
    private sealed class Loop : IDisposable
    {
        private readonly SafeLlamaContextHandle _context;
        private readonly LlamaTokenizer _tokenizer;
        private readonly nint _vocab;
        private readonly AbortFlag _abort = new();
        private readonly GCHandle _abortHandle;
        private readonly List<int> _evaluated = [];

        public unsafe Loop(LlamaModel model, LlamaContextOptions options, bool abortCallback)
        {
            llama_context_params parameters = NativeMethods.llama_context_default_params();
            parameters.n_ctx = (uint)options.ContextSize!.Value;
            parameters.n_batch = (uint)Math.Min(options.BatchSize, options.ContextSize.Value);
            parameters.n_ubatch = (uint)Math.Min(options.MicroBatchSize, (int)parameters.n_batch);
            parameters.n_seq_max = 1;
            parameters.n_threads = options.ThreadCount!.Value;
            parameters.n_threads_batch = options.ThreadCount.Value;
            parameters.flash_attn_type = (llama_flash_attn_type)options.FlashAttention;
            parameters.no_perf = 0;
            _abortHandle = GCHandle.Alloc(_abort);
            if (abortCallback)
            {
                parameters.abort_callback = &ShouldAbort;
                parameters.abort_callback_data = GCHandle.ToIntPtr(_abortHandle);
            }

            _context = SafeLlamaContextHandle.Create(model.Handle, parameters);
            _tokenizer = model.Tokenizer;
            _vocab = model.Tokenizer.Vocabulary.Pointer;
        }

        public unsafe RunMeasurement Run(int[] prompt, int maxTokens, int[] generated, long[] stamps, bool managedWork, ChannelWriter<LlamaGenerationUpdate>? writer = null)
        {
            NativeMethods.llama_memory_clear(NativeMethods.llama_get_memory(_context), true);
            _evaluated.Clear();
            using SafeLlamaSamplerHandle sampler = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
            NativeMethods.llama_sampler_chain_add(sampler, NativeMethods.llama_sampler_init_greedy());
            Span<byte> piece = stackalloc byte[256];
            var assembler = new Utf8TextAssembler();
            var stops = new StopStringMatcher([]);
            long start = Stopwatch.GetTimestamp();
            fixed (int* tokens = prompt)
            {
                Decode(tokens, prompt.Length);
            }

            long first = 0;
            long allocated = 0;
            int count = 0;
            while (true)
            {
                int token = NativeMethods.llama_sampler_sample(sampler, _context, -1);
                bool end = managedWork ? _tokenizer.IsEndOfGeneration(token) : NativeMethods.llama_vocab_is_eog(_vocab, token);
                if (end)
                {
                    break;
                }

                if (managedWork)
                {
                    _tokenizer.TryGetTokenBytes(token, piece, out int length);
                    string text = stops.Append(assembler.Append(piece[..length]));
                    var update = new LlamaGenerationUpdate { Text = text, TokenId = token };
                    writer?.TryWrite(update);
                }
                else
                {
                    fixed (byte* buffer = piece)
                    {
                        NativeMethods.llama_token_to_piece(_vocab, token, buffer, piece.Length, 0, false);
                    }
                }

                if (writer is null)
                {
                    stamps[count] = Stopwatch.GetTimestamp();
                }

                generated[count++] = token;
                if (count == 1)
                {
                    first = Stopwatch.GetTimestamp();
                    allocated = GC.GetTotalAllocatedBytes(precise: true);
                }

                if (count == maxTokens)
                {
                    break;
                }

                if (managedWork)
                {
                    // LlamaSession.MakeRoomForOneToken's check and Evaluate's delegate, lock and bookkeeping.
                    lock (_evaluated)
                    {
                        _ = _evaluated.Count;
                    }

                    EvaluateLikeSession([token], ThrowIfCancelled);
                }
                else
                {
                    Decode(&token, 1);
                }
            }

            long last = Stopwatch.GetTimestamp();
            return new RunMeasurement
            {
                PromptTokens = prompt.Length,
                GeneratedTokens = count,
                StoppedAtEndOfGeneration = count < maxTokens,
                PromptMilliseconds = Stopwatch.GetElapsedTime(start, first).TotalMilliseconds,
                GenerationMilliseconds = Stopwatch.GetElapsedTime(first, last).TotalMilliseconds,
                GenerationAllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocated,
                MedianStepMicroseconds = writer is null ? RunMeasurement.MedianStep(stamps.AsSpan(0, count)) : double.NaN,
                Gen0Collections = 0,
            };
        }

        /// <summary>The loop with managed work on a dedicated thread, read through an unbounded channel by an async consumer, as the SDK does.</summary>
        public async Task<RunMeasurement> RunOnWorkerAsync(int[] prompt, int maxTokens, int[] generated, long[] stamps, bool synchronousContinuations)
        {
            var channel = Channel.CreateUnbounded<LlamaGenerationUpdate>(
                new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = synchronousContinuations });
            int[] workerTokens = new int[maxTokens];
            long[] workerStamps = new long[maxTokens];
            // Not Thread.Join: with synchronous continuations the reader's code after the loop runs on the worker itself.
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                Run(prompt, maxTokens, workerTokens, workerStamps, managedWork: true, channel.Writer);
                channel.Writer.TryComplete();
                done.SetResult();
            })
            { IsBackground = true };
            long start = Stopwatch.GetTimestamp();
            thread.Start();
            int count = 0;
            long allocated = 0;
            await foreach (LlamaGenerationUpdate update in ReadAsync(channel.Reader).ConfigureAwait(false))
            {
                stamps[count] = Stopwatch.GetTimestamp();
                generated[count++] = update.TokenId!.Value;
                if (count == 1)
                {
                    allocated = GC.GetTotalAllocatedBytes(precise: true);
                }
            }

            long allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
            await done.Task.ConfigureAwait(false);
            return new RunMeasurement
            {
                PromptTokens = prompt.Length,
                GeneratedTokens = count,
                StoppedAtEndOfGeneration = count < maxTokens,
                PromptMilliseconds = Stopwatch.GetElapsedTime(start, stamps[0]).TotalMilliseconds,
                GenerationMilliseconds = Stopwatch.GetElapsedTime(stamps[0], stamps[count - 1]).TotalMilliseconds,
                GenerationAllocatedBytes = allocatedAfter - allocated,
                MedianStepMicroseconds = RunMeasurement.MedianStep(stamps.AsSpan(0, count)),
                Gen0Collections = 0,
            };
        }

        public void Dispose()
        {
            _context.Dispose();
            _abortHandle.Free();
        }

        // Mirrors StreamCoreAsync: an async iterator over ReadAllAsync.
        private static async IAsyncEnumerable<LlamaGenerationUpdate> ReadAsync(ChannelReader<LlamaGenerationUpdate> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (LlamaGenerationUpdate update in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }

        [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
        private static byte ShouldAbort(nint data)
        {
            var state = (AbortFlag)GCHandle.FromIntPtr(data).Target!;
            return state.Abort ? (byte)1 : (byte)0;
        }

        private void ThrowIfCancelled()
        {
            if (_abort.Abort)
            {
                throw new OperationCanceledException();
            }
        }

        private unsafe void EvaluateLikeSession(ReadOnlySpan<int> tokens, Action throwIfCancelled)
        {
            fixed (int* start = tokens)
            {
                throwIfCancelled();
                Decode(start, tokens.Length);
                lock (_evaluated)
                {
                    _evaluated.AddRange(tokens);
                }
            }
        }

        private unsafe void Decode(int* tokens, int count)
        {
            int status = NativeMethods.llama_decode(_context, NativeMethods.llama_batch_get_one(tokens, count));
            if (status != 0)
            {
                throw new LlamaException($"llama_decode failed with status {status}.");
            }
        }
    }
}
