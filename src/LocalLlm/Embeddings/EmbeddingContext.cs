using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// A context in embedding mode. Packs several inputs into one decode, each as its own sequence, and reads one pooled
/// vector per sequence. Used only from its generator's worker thread.
/// </summary>
internal sealed class EmbeddingContext : IDisposable
{
    private readonly LlamaModel _model;
    private readonly SafeLlamaContextHandle _context;
    private readonly AbortFlag _abort = new();
    private readonly NativeBatch _batch;
    private readonly bool _encoderOnly;

    public EmbeddingContext(LlamaModel model, LlamaEmbeddingOptions options)
    {
        _model = model;
        int contextSize = options.ContextSize ?? InferenceContexts.DefaultSize(model, fallback: 512);
        int threads = options.ThreadCount ?? CpuTopology.PhysicalCoreCount;
        var settings = new NativeContextSettings
        {
            ContextSize = contextSize,
            BatchSize = contextSize,
            MicroBatchSize = contextSize, // non-causal models need a whole input in one micro-batch
            SequenceCount = options.MaxSequencesPerBatch,
            UnifiedKvCache = true,        // every sequence may use the whole context
            ThreadCount = threads,
            BatchThreadCount = threads,
            Embeddings = true,
            Pooling = options.Pooling,    // null: the model's own
        };
        _context = SafeLlamaContextHandle.Create(model.Handle, settings, _abort, $"an embedding context for '{model.Path}'");

        // llama.cpp may round the context up (to a multiple of 256) but not the micro-batch, and an encoder's whole batch
        // must fit one micro-batch (else it aborts the process): a batch is bounded by the smaller.
        ContextSize = Math.Min(_context.ContextSize, _context.MicroBatchSize);
        MaxSequences = options.MaxSequencesPerBatch;
        Pooling = _context.Pooling;
        Dimensions = Pooling == LlamaPooling.Rank ? model.Handle.ClassifierOutputCount : model.Metadata.EmbeddingSize;
        _encoderOnly = model.Metadata.HasEncoder && !model.Metadata.HasDecoder;
        _batch = new NativeBatch(ContextSize);
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
            _batch.Clear();
            while (next < inputs.Count && members.Count < MaxSequences && _batch.Count + inputs[next].Length <= ContextSize)
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
        _batch.Dispose();
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
        _context.ClearMemory();
        DecodeCalls++;
        int status = _encoderOnly ? _context.Encode(_batch) : _context.Decode(_batch);
        if (status != 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new LlamaException($"llama.cpp failed to compute embeddings for {_batch.Count} tokens (status {status}).");
        }
    }

    private float[] Read(int sequence, int lastRow, int input)
    {
        // Without pooling every token has an output: take the sequence's last token.
        float[]? vector = Pooling == LlamaPooling.None
            ? _context.CopyTokenEmbedding(lastRow, Dimensions)
            : _context.CopySequenceEmbedding(sequence, Dimensions);
        return vector ?? throw new LlamaException($"llama.cpp returned no embedding for input {input} (pooling {Pooling}).");
    }
}
