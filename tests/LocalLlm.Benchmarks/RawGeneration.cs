using System.Diagnostics;
using LocalLlm.Native;

namespace LocalLlm.Benchmarks;

/// <summary>
/// The baseline: the native calls the SDK makes for a completion, in a tight loop on the calling thread, with no
/// worker thread, channel, bookkeeping or abort callback. Its context is created with the parameters
/// <see cref="LlamaSession"/> derives from the same <see cref="LlamaContextOptions"/>.
/// </summary>
internal sealed unsafe class RawGeneration : IDisposable
{
    private readonly SafeLlamaContextHandle _context;
    private readonly nint _vocab;

    public RawGeneration(LlamaModel model, LlamaContextOptions options)
    {
        int contextSize = options.ContextSize ?? throw new ArgumentException("The benchmark sets the context size.", nameof(options));
        int threads = options.ThreadCount ?? throw new ArgumentException("The benchmark sets the thread count.", nameof(options));

        // The same parameters LlamaSession's constructor sets, minus the abort callback.
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = (uint)contextSize;
        parameters.n_batch = (uint)Math.Min(options.BatchSize, contextSize);
        parameters.n_ubatch = (uint)Math.Min(options.MicroBatchSize, (int)parameters.n_batch);
        parameters.n_seq_max = 1;
        parameters.n_threads = threads;
        parameters.n_threads_batch = options.BatchThreadCount ?? threads;
        parameters.flash_attn_type = (llama_flash_attn_type)options.FlashAttention;
        parameters.type_k = (ggml_type)options.KeyCacheType;
        parameters.type_v = (ggml_type)options.ValueCacheType;
        parameters.no_perf = 0;

        _context = SafeLlamaContextHandle.Create(model.Handle, parameters);
        if (_context.IsInvalid)
        {
            throw new LlamaException($"llama.cpp could not create the raw benchmark context for '{model.Path}'.");
        }

        _vocab = model.Tokenizer.Vocabulary.Pointer;
        BatchSize = (int)NativeMethods.llama_n_batch(_context);
    }

    public int BatchSize { get; }

    /// <summary>Evaluates <paramref name="prompt"/> from an empty KV cache and generates up to <paramref name="maxTokens"/> tokens greedily.</summary>
    /// <param name="prompt">The prompt tokens.</param>
    /// <param name="maxTokens">The most tokens to generate.</param>
    /// <param name="generated">Receives the generated token ids; at least <paramref name="maxTokens"/> long.</param>
    /// <param name="timestamps">Receives the time each token was in hand; at least <paramref name="maxTokens"/> long.</param>
    /// <param name="deadline">A <see cref="Stopwatch"/> timestamp after which generation stops early (a contended run is bounded in time).</param>
    public RunMeasurement Run(int[] prompt, int maxTokens, int[] generated, long[] timestamps, long deadline = long.MaxValue)
    {
        NativeMethods.llama_memory_clear(NativeMethods.llama_get_memory(_context), true);
        Span<byte> piece = stackalloc byte[256];
        int count = 0;
        bool endOfGeneration = false;

        long start = Stopwatch.GetTimestamp();
        using SafeLlamaSamplerHandle sampler = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
        NativeMethods.llama_sampler_chain_add(sampler, NativeMethods.llama_sampler_init_greedy());
        fixed (int* tokens = prompt)
        {
            for (int offset = 0; offset < prompt.Length; offset += BatchSize)
            {
                Decode(tokens + offset, Math.Min(BatchSize, prompt.Length - offset));
            }
        }

        int token = NativeMethods.llama_sampler_sample(sampler, _context, -1);
        if (NativeMethods.llama_vocab_is_eog(_vocab, token))
        {
            throw new InvalidOperationException("The model ended generation on its first token; choose another prompt.");
        }

        Piece(token, piece);
        long first = Stopwatch.GetTimestamp();
        timestamps[count] = first;
        generated[count++] = token;
        int gen0 = GC.CollectionCount(0);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        while (count < maxTokens && timestamps[count - 1] < deadline)
        {
            Decode(&token, 1);
            token = NativeMethods.llama_sampler_sample(sampler, _context, -1);
            if (NativeMethods.llama_vocab_is_eog(_vocab, token))
            {
                endOfGeneration = true;
                break;
            }

            Piece(token, piece);
            timestamps[count] = Stopwatch.GetTimestamp();
            generated[count++] = token;
        }

        long last = timestamps[count - 1];
        long allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        return new RunMeasurement
        {
            PromptTokens = prompt.Length,
            GeneratedTokens = count,
            StoppedAtEndOfGeneration = endOfGeneration,
            PromptMilliseconds = Stopwatch.GetElapsedTime(start, first).TotalMilliseconds,
            GenerationMilliseconds = Stopwatch.GetElapsedTime(first, last).TotalMilliseconds,
            GenerationAllocatedBytes = allocatedAfter - allocatedBefore,
            MedianStepMicroseconds = RunMeasurement.MedianStep(timestamps.AsSpan(0, count)),
            Gen0Collections = GC.CollectionCount(0) - gen0,
        };
    }

    public void Dispose() => _context.Dispose();

    private void Decode(int* tokens, int count)
    {
        int status = NativeMethods.llama_decode(_context, NativeMethods.llama_batch_get_one(tokens, count));
        if (status != 0)
        {
            throw new LlamaException($"llama_decode failed with status {status} in the raw loop.");
        }
    }

    private void Piece(int token, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            int length = NativeMethods.llama_token_to_piece(_vocab, token, pointer, buffer.Length, 0, false);
            if (length < 0)
            {
                throw new LlamaException($"Token {token}'s text is longer than {buffer.Length} bytes.");
            }
        }
    }
}
