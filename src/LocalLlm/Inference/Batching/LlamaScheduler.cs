namespace LocalLlm;

/// <summary>
/// Serves many concurrent requests from one model with continuous batching: one context holds a sequence per active
/// request, and every decode call advances all of them by a token. New requests join between steps; a long prompt is
/// evaluated in chunks interleaved with the other streams' tokens; a finished or cancelled request frees its KV
/// cells at once.
/// </summary>
/// <remarks>
/// Thread-safe: call <see cref="StreamAsync(string, LlamaGenerationOptions?, CancellationToken)"/> from as many callers as you like.
/// Up to <see cref="LlamaSchedulerOptions.ParallelSequences"/> requests generate at once; the rest wait in a bounded,
/// first-come-first-served queue. Each request has its own sampler chain and stop conditions. When a sequence's context
/// fills, that sequence alone shifts (see <see cref="LlamaSchedulerOptions.OverflowPolicy"/>), or its request finishes
/// with <see cref="LlamaFinishReason.ContextFull"/>.
/// <para>
/// A stream's updates are handed over on the scheduler's thread between decode steps, so the caller's loop body (and
/// code after an <c>await</c> on a stream) runs there, as on a native loop: await rather than block in it. A body that
/// holds the thread past <see cref="LlamaSchedulerOptions.CallerStallLimit"/> while other requests generate or wait
/// makes the scheduler move to a fresh thread and log a warning; the other streams are delayed, not deadlocked.
/// </para>
/// </remarks>
public sealed class LlamaScheduler : IDisposable
{
    private readonly InferenceEngine _engine;

    /// <summary>Creates a scheduler over <paramref name="model"/> and starts its worker thread.</summary>
    /// <param name="model">The loaded model; it stays alive while the scheduler exists.</param>
    /// <param name="options">Parallel sequences, context per sequence, queue limits; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The model cannot generate text (an embedding, encoder-only or vocabulary-only model).</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="model"/> has been disposed.</exception>
    /// <exception cref="LlamaException">llama.cpp could not create the context.</exception>
    public LlamaScheduler(LlamaModel model, LlamaSchedulerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Options = options ?? new LlamaSchedulerOptions();
        Options.Validate();
        int batchSize = Math.Max(Options.PromptChunkSize + Options.ParallelSequences, 512);
        var context = new LlamaContextOptions
        {
            ContextSize = Options.ContextSizePerSequence,
            BatchSize = batchSize,
            MicroBatchSize = Math.Min(batchSize, 512),
            ThreadCount = Options.ThreadCount,
            ThreadPolling = Options.ThreadPolling,
            AdaptThreadsToLoad = Options.AdaptThreadsToLoad,
            Seed = Options.Seed,
            OverflowPolicy = Options.OverflowPolicy,
            ShiftKeepTokens = Options.ShiftKeepTokens,
        };
        InferenceEngineSettings settings = InferenceEngineSettings.FromContextOptions(model, context, Options.ParallelSequences, owner: "scheduler",
            static () => new ObjectDisposedException(nameof(LlamaScheduler), "The scheduler was disposed while the request was in progress."));
        _engine = new InferenceEngine(model, settings with { Loop = Options });
        ContextSizePerSequence = _engine.SequenceContextSize;
        BatchSize = _engine.BatchSize;
    }

    /// <summary>Gets the model the scheduler runs.</summary>
    public LlamaModel Model { get; }

    /// <summary>Gets the options the scheduler was created with.</summary>
    public LlamaSchedulerOptions Options { get; }

    /// <summary>Gets each sequence's context window in tokens.</summary>
    public int ContextSizePerSequence { get; }

    /// <summary>Gets the most tokens one decode call takes.</summary>
    public int BatchSize { get; }

    /// <summary>Gets how many times a full sequence has shifted to make room.</summary>
    public int ShiftCount => _engine.ShiftCount;

    /// <summary>Gets how many requests are generating right now.</summary>
    public int ActiveRequests => _engine.ActiveRequests;

    /// <summary>Streams a completion of <paramref name="prompt"/>, generated alongside the other active requests.</summary>
    /// <param name="prompt">The prompt text.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops this request (while queued or generating) without disturbing the others.</param>
    /// <returns>One update per generated token, then a final update with the finish reason and usage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in one sequence's context (and truncation was not asked for).</exception>
    /// <exception cref="LlamaQueueFullException">The queue is full and the behaviour is <see cref="LlamaQueueFullBehavior.Fail"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<LlamaGenerationUpdate> StreamAsync(string prompt, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new LlamaGenerationOptions();
        options.Validate();
        return StreamAsync(Model.Tokenizer.Tokenize(prompt, options.AddSpecialTokens, options.ParseSpecialTokens), options, cancellationToken);
    }

    /// <summary>Streams a completion of a prompt given as token ids, generated alongside the other active requests.</summary>
    /// <param name="promptTokens">The prompt.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops this request (while queued or generating) without disturbing the others.</param>
    /// <returns>One update per generated token, then a final update with the finish reason and usage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="promptTokens"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="promptTokens"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in one sequence's context (and truncation was not asked for).</exception>
    /// <exception cref="LlamaQueueFullException">The queue is full and the behaviour is <see cref="LlamaQueueFullBehavior.Fail"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<LlamaGenerationUpdate> StreamAsync(IReadOnlyList<int> promptTokens, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ObjectDisposedException.ThrowIf(_engine.IsDisposed, this);
        options ??= new LlamaGenerationOptions();
        options.Validate();

        // Checked here, per request: llama_decode would reject the whole batch, failing every other stream with it.
        int[] tokens = [.. promptTokens];
        Model.Tokenizer.ThrowIfOutsideVocabulary(tokens, nameof(promptTokens));
        tokens = _engine.FitPrompt(tokens, options);
        return _engine.StreamAsync(new GenerationRequest(tokens, options, cancellationToken), cancellationToken);
    }

    /// <summary>Generates a whole completion alongside the other active requests.</summary>
    /// <param name="prompt">The prompt text.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops this request.</param>
    /// <returns>The completion.</returns>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in one sequence's context (and truncation was not asked for).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<LlamaCompletion> CompleteAsync(string prompt, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        InferenceContexts.CollectAsync(StreamAsync(prompt, options, cancellationToken), cancellationToken);

    /// <summary>Generates a whole completion of a prompt given as token ids, alongside the other active requests.</summary>
    /// <param name="promptTokens">The prompt.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops this request.</param>
    /// <returns>The completion.</returns>
    /// <exception cref="ArgumentException"><paramref name="promptTokens"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in one sequence's context (and truncation was not asked for).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<LlamaCompletion> CompleteAsync(IReadOnlyList<int> promptTokens, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        InferenceContexts.CollectAsync(StreamAsync(promptTokens, options, cancellationToken), cancellationToken);

    /// <summary>
    /// Stops every request, waits for the scheduler's loop to end, and frees the context. Idempotent. Called from a
    /// caller's loop body running on the scheduler's thread (or code after an <c>await</c> on one of its streams),
    /// it returns at once and the loop frees the context as it exits.
    /// </summary>
    public void Dispose() => _engine.Dispose();

    /// <summary>For tests: how many times a caller's loop body held the loop's thread past the stall limit.</summary>
    internal int LoopMoves => _engine.LoopMoves;

    /// <summary>For tests: decode steps in which generating streams advanced together with a prompt chunk.</summary>
    internal int InterleavedSteps => _engine.InterleavedSteps;

    /// <summary>For tests: the highest position each sequence holds in the KV cache (-1 when empty).</summary>
    internal int[] SequencePositions() => _engine.SequencePositions();
}
