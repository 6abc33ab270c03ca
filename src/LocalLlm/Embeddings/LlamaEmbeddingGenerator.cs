using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace LocalLlm;

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a local embedding-capable GGUF (BERT-style encoders
/// or decoder models): many inputs are embedded in one decode call, each as its own sequence.
/// </summary>
/// <remarks>
/// Thread-safe: concurrent requests share the generator's one context; requests that arrive while a decode runs are
/// embedded together in the next one (continuous batching), each input as its own sequence. Pooling follows the model's metadata
/// unless <see cref="LlamaEmbeddingOptions.Pooling"/> overrides it; vectors are L2-normalised by default.
/// </remarks>
public sealed class LlamaEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly Func<CancellationToken, ValueTask<LlamaModel>> _modelProvider;
    private readonly LlamaEmbeddingOptions _options;
    private readonly SemaphoreSlim _initialization = new(1, 1);
    private readonly CancellationTokenSource _disposal = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<EmbeddingJob> _queued = new();
    private readonly string? _defaultModelId;
    private LlamaModel? _model;
    private EmbeddingContext? _context;
    private InferenceWorker? _worker;
    private readonly bool _ranking;
    private bool _disposed;

    /// <summary>Creates a generator over a loaded model. The generator does not own the model: dispose it yourself.</summary>
    /// <param name="model">An embedding-capable model.</param>
    /// <param name="options">Context size, pooling, normalisation and truncation; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public LlamaEmbeddingGenerator(LlamaModel model, LlamaEmbeddingOptions? options = null)
        : this(_ => ValueTask.FromResult(model), options, model?.Path)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>Creates a generator whose model is loaded on first use (dependency injection).</summary>
    internal LlamaEmbeddingGenerator(Func<CancellationToken, ValueTask<LlamaModel>> modelProvider, LlamaEmbeddingOptions? options, string? modelPath, bool ranking = false)
    {
        _ranking = ranking;
        _modelProvider = modelProvider;
        _options = options ?? new LlamaEmbeddingOptions();
        _options.Validate();
        _defaultModelId = _options.ModelId ?? (string.IsNullOrEmpty(modelPath) ? null : Path.GetFileNameWithoutExtension(modelPath));
    }

    /// <summary>For tests: how many decode calls the generator has made.</summary>
    internal int DecodeCalls => _context?.DecodeCalls ?? 0;

    /// <summary>Gets the pooling in use, or null before the first request.</summary>
    public LlamaPooling? Pooling => _context?.Pooling;

    /// <inheritdoc />
    /// <exception cref="LlamaContextOverflowException">An input is longer than the context and truncation was not asked for.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string[] inputs = [.. values];
        EmbeddingContext context = await EnsureContextAsync(cancellationToken).ConfigureAwait(false);
        int[][] tokens = inputs.Select((text, index) => Fit(Tokenize(text, index), context.ContextSize, index)).ToArray();
        float[][] vectors = await RunAsync(context, tokens, cancellationToken).ConfigureAwait(false);
        if (_options.Normalize)
        {
            foreach (float[] vector in vectors)
            {
                float norm = TensorPrimitives.Norm(vector);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(vector, norm, vector);
                }
            }
        }

        string? modelId = _defaultModelId;
        DateTimeOffset created = DateTimeOffset.UtcNow;
        long tokenCount = tokens.Sum(t => (long)t.Length);
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = modelId, CreatedAt = created }))
        {
            Usage = new UsageDetails { InputTokenCount = tokenCount, TotalTokenCount = tokenCount },
        };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return new EmbeddingGeneratorMetadata("LocalLlm", defaultModelId: _defaultModelId, defaultModelDimensions: _model?.Metadata.EmbeddingSize);
        }

        if (serviceType == typeof(LlamaModel))
        {
            return _model;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Frees the generator's context (not the model). Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Stops the decode in progress and fails every call not yet done, instead of waiting for them.
        _disposal.Cancel();
        EmbeddingContext? context = _context;
        if (_worker is null)
        {
            context?.Dispose();
            _disposal.Dispose();
        }
        else
        {
            _worker.Dispose(afterLastWork: () =>
            {
                context?.Dispose();
                _disposal.Dispose();
            });
        }

        _initialization.Dispose();
    }

    private int[] Tokenize(string text, int index)
    {
        ArgumentNullException.ThrowIfNull(text, $"values[{index}]");
        int[] tokens = _model!.Tokenizer.Tokenize(text, addSpecial: true, parseSpecial: false);
        return tokens.Length > 0 ? tokens : throw new ArgumentException($"Input {index} has no tokens to embed.", nameof(text));
    }

    private int[] Fit(int[] tokens, int contextSize, int index)
    {
        if (tokens.Length <= contextSize)
        {
            return tokens;
        }

        if (!_options.TruncateInputs)
        {
            throw new LlamaContextOverflowException(tokens.Length, contextSize);
        }

        // Keep the start and the closing special token (BERT's [SEP]) so the input stays well-formed.
        return [.. tokens.AsSpan(0, contextSize - 1), tokens[^1]];
    }

    /// <summary>
    /// Runs inputs the caller tokenized (a reranker's query-document pairs) through the same batching as
    /// <see cref="GenerateAsync"/>; <paramref name="prepare"/> gets the model and the context size once it exists.
    /// </summary>
    internal async Task<(float[][] Outputs, int[][] Tokens)> RunTokensAsync(Func<LlamaModel, int, int[][]> prepare, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EmbeddingContext context = await EnsureContextAsync(cancellationToken).ConfigureAwait(false);
        int[][] tokens = prepare(_model!, context.ContextSize);
        return (await RunAsync(context, tokens, cancellationToken).ConfigureAwait(false), tokens);
    }

    private Task<float[][]> RunAsync(EmbeddingContext context, int[][] tokens, CancellationToken cancellationToken)
    {
        var job = new EmbeddingJob(tokens, cancellationToken);
        _queued.Enqueue(job);
        _worker!.Post(() =>
        {
            // The first posted run takes every job queued by then; the runs posted by those jobs find nothing left.
            var jobs = new List<EmbeddingJob>();
            while (_queued.TryDequeue(out EmbeddingJob? next))
            {
                jobs.Add(next);
            }

            if (jobs.Count > 0)
            {
                EmbeddingJob.RunTogether(jobs, context, _disposal.Token);
            }
        });
        return job.Result.Task;
    }

    private async ValueTask<EmbeddingContext> EnsureContextAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _context) is { } ready)
        {
            return ready;
        }

        await _initialization.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_context is { } created)
            {
                return created;
            }

            LlamaModel model = await _modelProvider(cancellationToken).ConfigureAwait(false);
            _model = model;
            var context = new EmbeddingContext(model, _options);
            if ((context.Pooling == LlamaPooling.Rank) != _ranking)
            {
                context.Dispose();
                throw new NotSupportedException(_ranking
                    ? $"Model '{model.Path}' ({model.Metadata.Architecture}) is not a reranker: its pooling is {context.Pooling}, and reranking needs rank pooling (a classification head, as BGE-reranker and Qwen3-reranker GGUFs have). Use LlamaEmbeddingGenerator for embeddings."
                    : $"Model '{model.Path}' ({model.Metadata.Architecture}) is a reranker (rank pooling): it scores query-document pairs rather than embedding texts. Use LlamaReranker.");
            }

            _worker = new InferenceWorker($"LocalLlm embeddings ({Path.GetFileName(model.Path)})");
            Volatile.Write(ref _context, context);
            return context;
        }
        finally
        {
            _initialization.Release();
        }
    }
}
