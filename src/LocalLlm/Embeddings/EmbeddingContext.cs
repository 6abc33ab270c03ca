using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// A context in embedding mode. Packs several inputs into one decode, each as its own sequence, and reads one pooled
/// vector per sequence. Used only from its generator's worker thread.
/// </summary>
internal sealed unsafe class EmbeddingContext : IDisposable
{
    private readonly LlamaModel _model;
    private readonly SafeLlamaContextHandle _context;
    private readonly AbortFlag _abort = new();
    private llama_batch _batch;
    private readonly bool _encoderOnly;

    public EmbeddingContext(LlamaModel model, LlamaEmbeddingOptions options)
    {
        _model = model;
        int contextSize = options.ContextSize ?? InferenceContexts.DefaultSize(model, fallback: 512);
        int threads = options.ThreadCount ?? CpuTopology.PhysicalCoreCount;
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = (uint)contextSize;
        parameters.n_batch = (uint)contextSize;
        parameters.n_ubatch = (uint)contextSize; // non-causal models need a whole input in one micro-batch
        parameters.n_seq_max = (uint)options.MaxSequencesPerBatch;
        parameters.kv_unified = 1;              // every sequence may use the whole context
        parameters.n_threads = threads;
        parameters.n_threads_batch = threads;
        parameters.embeddings = 1;
        parameters.pooling_type = options.Pooling is { } pooling ? (llama_pooling_type)pooling : llama_pooling_type.LLAMA_POOLING_TYPE_UNSPECIFIED;
        _context = InferenceContexts.Create(model, parameters, _abort, "an embedding context");

        ContextSize = (int)NativeMethods.llama_n_ctx(_context);
        MaxSequences = options.MaxSequencesPerBatch;
        Pooling = (LlamaPooling)Math.Max(0, (int)NativeMethods.llama_pooling_type(_context));
        Dimensions = model.Metadata.EmbeddingSize;
        _encoderOnly = model.Metadata.HasEncoder && !model.Metadata.HasDecoder;
        _batch = NativeMethods.llama_batch_init(ContextSize, 0, 1);
    }

    public int ContextSize { get; }

    public int MaxSequences { get; }

    public LlamaPooling Pooling { get; }

    public int Dimensions { get; }

    public AbortFlag Abort => _abort;

    public int DecodeCalls { get; private set; }

    /// <summary>
    /// Embeds inputs that each fit the context, in as few decode calls as the batch allows. Inputs for which
    /// <paramref name="skip"/> says so when their turn comes are left out and get no vector.
    /// </summary>
    public float[]?[] Embed(IReadOnlyList<int[]> inputs, CancellationToken cancellationToken, Func<int, bool>? skip = null)
    {
        var vectors = new float[]?[inputs.Count];
        var members = new List<int>(MaxSequences);
        int next = 0;
        while (next < inputs.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            members.Clear();
            _batch.n_tokens = 0;
            while (next < inputs.Count && members.Count < MaxSequences && _batch.n_tokens + inputs[next].Length <= ContextSize)
            {
                if (skip is null || !skip(next))
                {
                    Add(inputs[next], members.Count);
                    members.Add(next);
                }

                next++;
            }

            if (members.Count == 0)
            {
                continue;
            }

            Decode(cancellationToken);
            int lastRow = -1;
            for (int sequence = 0; sequence < members.Count; sequence++)
            {
                lastRow += inputs[members[sequence]].Length;
                vectors[members[sequence]] = Read(sequence, lastRow, members[sequence]);
            }
        }

        return vectors;
    }

    public void Dispose()
    {
        NativeMethods.llama_batch_free(_batch);
        _context.Dispose();
        _abort.Dispose();
    }

    private void Add(int[] tokens, int sequence)
    {
        for (int position = 0; position < tokens.Length; position++)
        {
            _batch.Add(tokens[position], position, sequence, output: true);
        }
    }

    private void Decode(CancellationToken cancellationToken)
    {
        NativeMethods.llama_memory_clear(NativeMethods.llama_get_memory(_context), true);
        DecodeCalls++;
        int status = _encoderOnly ? NativeMethods.llama_encode(_context, _batch) : NativeMethods.llama_decode(_context, _batch);
        if (status != 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new LlamaException($"llama.cpp failed to compute embeddings for {_batch.n_tokens} tokens (status {status}).");
        }
    }

    private float[] Read(int sequence, int lastRow, int input)
    {
        // Without pooling every token has an output: take the sequence's last token.
        float* vector = Pooling == LlamaPooling.None
            ? NativeMethods.llama_get_embeddings_ith(_context, lastRow)
            : NativeMethods.llama_get_embeddings_seq(_context, sequence);
        if (vector is null)
        {
            throw new LlamaException($"llama.cpp returned no embedding for input {input} (pooling {Pooling}).");
        }

        return new ReadOnlySpan<float>(vector, Dimensions).ToArray();
    }
}
