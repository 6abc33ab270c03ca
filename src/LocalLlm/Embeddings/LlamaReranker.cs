namespace LocalLlm;

/// <summary>
/// Scores documents by relevance to a query with a reranking model (rank pooling: BGE-reranker, Qwen3-reranker and
/// similar GGUFs), as llama-server's <c>/rerank</c> does: each query-document pair is one sequence, many pairs share a
/// decode (the embedding generator's batching), and the model's classification head gives each pair its score.
/// </summary>
/// <remarks>Thread-safe: concurrent calls are batched together. Dispose it before the model.</remarks>
public sealed class LlamaReranker : IDisposable
{
    private readonly LlamaEmbeddingGenerator _pairs;

    /// <summary>Creates a reranker over a loaded model; the context is made on first use.</summary>
    /// <param name="model">A reranking model. Another model fails the first call with <see cref="NotSupportedException"/>.</param>
    /// <param name="options">Context, batching and truncation; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public LlamaReranker(LlamaModel model, LlamaRerankerOptions? options = null)
        : this(_ => ValueTask.FromResult(model), options, model?.Path)
    {
        ArgumentNullException.ThrowIfNull(model);
    }

    internal LlamaReranker(Func<CancellationToken, ValueTask<LlamaModel>> modelProvider, LlamaRerankerOptions? options, string? modelPath)
    {
        options ??= new LlamaRerankerOptions();
        options.Validate();
        Options = options;
        _pairs = new LlamaEmbeddingGenerator(modelProvider, options.ToEmbeddingOptions(), modelPath, ranking: true);
    }

    /// <summary>Gets the options the reranker was made with.</summary>
    public LlamaRerankerOptions Options { get; }

    /// <summary>Scores each document against the query and returns them most relevant first.</summary>
    /// <param name="query">The query.</param>
    /// <param name="documents">The documents to rank.</param>
    /// <param name="topN">How many of the best to return; null for all.</param>
    /// <param name="cancellationToken">Stops the call, the decode in progress included.</param>
    /// <returns>Each document's index, score and token count, by descending score (ties by index).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/>, <paramref name="documents"/> or a document is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topN"/> is below 1.</exception>
    /// <exception cref="LlamaContextOverflowException">A pair is longer than the context and <see cref="LlamaRerankerOptions.TruncateInputs"/> is off.</exception>
    /// <exception cref="NotSupportedException">The model is not a reranker.</exception>
    /// <exception cref="ObjectDisposedException">The reranker was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IReadOnlyList<LlamaRerankResult>> RerankAsync(string query, IEnumerable<string> documents, int? topN = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documents);
        string[] texts = [.. documents];
        for (int i = 0; i < texts.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(texts[i], $"documents[{i}]");
        }

        if (topN is { } top)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(top, 1, nameof(topN));
        }

        if (texts.Length == 0)
        {
            return [];
        }

        (float[][] scores, int[][] tokens) = await _pairs.RunTokensAsync(
            (model, contextSize) => [.. texts.Select(document => Fit(RerankPrompt.Tokenize(model, query, document), contextSize))],
            cancellationToken).ConfigureAwait(false);
        return [.. scores
            .Select((score, index) => new LlamaRerankResult(index, score[0], tokens[index].Length))
            .OrderByDescending(result => result.Score)
            .ThenBy(result => result.Index)
            .Take(topN ?? int.MaxValue)];
    }

    /// <summary>Frees the context; calls in progress fail with <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public void Dispose() => _pairs.Dispose();

    private int[] Fit(int[] tokens, int contextSize)
    {
        if (tokens.Length <= contextSize)
        {
            return tokens;
        }

        if (!Options.TruncateInputs)
        {
            throw new LlamaContextOverflowException(tokens.Length, contextSize);
        }

        // The query comes first, so the document's end is what goes; the closing token keeps the pair well-formed.
        return [.. tokens.AsSpan(0, contextSize - 1), tokens[^1]];
    }
}
