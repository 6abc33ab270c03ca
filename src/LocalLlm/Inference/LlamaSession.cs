using System.Runtime.CompilerServices;

namespace LocalLlm;

/// <summary>
/// An inference context over a loaded model: a KV cache and the text it has evaluated, from which completions are
/// streamed. A new prompt that shares a prefix with what the session has evaluated evaluates only the rest.
/// </summary>
/// <remarks>
/// A session runs one operation at a time: starting a generation, or saving or loading state, while another is in
/// progress throws <see cref="InvalidOperationException"/>. Use one session per conversation or concurrent caller;
/// sessions over the same model share its weights. Decoding runs on a thread the session owns, never on the caller's
/// thread; the caller's loop body runs there between tokens, as in a native loop. A session is the one-sequence case
/// of the loop that also drives <see cref="LlamaScheduler"/>. Dispose the session to free its context; disposal is
/// idempotent.
/// </remarks>
public sealed partial class LlamaSession : IDisposable
{
    private readonly InferenceEngine _engine;
    private int _busy;
    private bool _disposed;

    /// <summary>Creates a session (an inference context) over <paramref name="model"/>.</summary>
    /// <param name="model">The loaded model; it stays alive while the session exists.</param>
    /// <param name="options">How to create the context; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="model"/> has been disposed.</exception>
    /// <exception cref="NotSupportedException">The model cannot generate text (an embedding, encoder-only or vocabulary-only model).</exception>
    /// <exception cref="LlamaException">llama.cpp could not create the context (for example, not enough memory for the KV cache).</exception>
    public LlamaSession(LlamaModel model, LlamaContextOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new LlamaContextOptions();
        options.Validate();
        Model = model;
        Options = options;
        InferenceEngineSettings settings = InferenceEngineSettings.FromContextOptions(model, options, sequences: 1, owner: "session",
            static () => new OperationCanceledException("The session was disposed while the generation was in progress."));
        settings.Loop.ReusePromptCache = true; // the session's conversation stays in its KV cache between calls
        settings.Loop.MaxQueuedRequests = 1;
        _engine = new InferenceEngine(model, settings);
    }

    /// <summary>Gets the model this session runs.</summary>
    public LlamaModel Model { get; }

    /// <summary>Gets the options the session was created with.</summary>
    public LlamaContextOptions Options { get; }

    /// <summary>Gets the context window in tokens.</summary>
    public int ContextSize => _engine.ContextSize;

    /// <summary>Gets the most tokens submitted to one decode call.</summary>
    public int BatchSize => _engine.BatchSize;

    /// <summary>Gets how many tokens the KV cache holds for this session's conversation.</summary>
    public int EvaluatedTokenCount => _engine.HeldTokenCount;

    /// <summary>Gets how many times generation has shifted the context because it was full.</summary>
    public int ShiftCount => _engine.ShiftCount;

    /// <summary>For tests: the threads single-token decodes use now (fewer than configured while the machine is busy).</summary>
    internal int DecodeThreadCount => _engine.DecodeThreadCount;

    /// <summary>Gets why the most recent completion ended (including <see cref="LlamaFinishReason.Cancelled"/>), or null before the first.</summary>
    public LlamaFinishReason? LastFinishReason { get; private set; }

    /// <summary>Gets what the most recent completion cost, or null before the first.</summary>
    public LlamaUsage? LastUsage { get; private set; }

    /// <summary>Streams the text of a completion of <paramref name="prompt"/>.</summary>
    /// <param name="prompt">The full prompt text; a prefix already evaluated by this session is reused.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops generation, including inside a long prompt evaluation.</param>
    /// <returns>The generated text, piece by piece; never half a character, never part of a stop string.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in the context (and truncation was not asked for).</exception>
    /// <exception cref="InvalidOperationException">The session is already running an operation.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<string> GenerateAsync(string prompt, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return TextOnly(StreamAsync(prompt, options, cancellationToken), cancellationToken);
    }

    /// <summary>Streams a completion of <paramref name="prompt"/> token by token, with log-probabilities when asked for.</summary>
    /// <param name="prompt">The full prompt text; a prefix already evaluated by this session is reused.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops generation, including inside a long prompt evaluation.</param>
    /// <returns>One update per generated token, then a final update with the finish reason and usage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in the context (and truncation was not asked for).</exception>
    /// <exception cref="InvalidOperationException">The session is already running an operation.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<LlamaGenerationUpdate> StreamAsync(string prompt, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new LlamaGenerationOptions();
        options.Validate();
        int[] tokens = Model.Tokenizer.Tokenize(prompt, options.AddSpecialTokens, options.ParseSpecialTokens);
        return StreamCoreAsync(tokens, options, cancellationToken);
    }

    /// <summary>Streams a completion of a prompt given as token ids.</summary>
    /// <param name="promptTokens">The full prompt; a prefix already evaluated by this session is reused.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops generation, including inside a long prompt evaluation.</param>
    /// <returns>One update per generated token, then a final update with the finish reason and usage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="promptTokens"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="promptTokens"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in the context (and truncation was not asked for).</exception>
    /// <exception cref="InvalidOperationException">The session is already running an operation.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<LlamaGenerationUpdate> StreamAsync(IReadOnlyList<int> promptTokens, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        options ??= new LlamaGenerationOptions();
        options.Validate();
        int[] tokens = [.. promptTokens];
        Model.Tokenizer.ThrowIfOutsideVocabulary(tokens, nameof(promptTokens));
        return StreamCoreAsync(tokens, options, cancellationToken);
    }

    /// <summary>Generates a whole completion of <paramref name="prompt"/>.</summary>
    /// <param name="prompt">The full prompt text; a prefix already evaluated by this session is reused.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops generation.</param>
    /// <returns>The completion: text, tokens, finish reason and usage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in the context (and truncation was not asked for).</exception>
    /// <exception cref="InvalidOperationException">The session is already running an operation.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<LlamaCompletion> CompleteAsync(string prompt, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        InferenceContexts.CollectAsync(StreamAsync(prompt, options, cancellationToken), cancellationToken);

    /// <summary>Generates a whole completion of a prompt given as token ids.</summary>
    /// <param name="promptTokens">The full prompt; a prefix already evaluated by this session is reused.</param>
    /// <param name="options">How to generate; null for the defaults.</param>
    /// <param name="cancellationToken">Stops generation.</param>
    /// <returns>The completion: text, tokens, finish reason and usage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="promptTokens"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit in the context (and truncation was not asked for).</exception>
    /// <exception cref="InvalidOperationException">The session is already running an operation.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<LlamaCompletion> CompleteAsync(IReadOnlyList<int> promptTokens, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        InferenceContexts.CollectAsync(StreamAsync(promptTokens, options, cancellationToken), cancellationToken);

    /// <summary>Forgets everything the session has evaluated and clears its KV cache.</summary>
    /// <exception cref="InvalidOperationException">The session is running an operation.</exception>
    /// <exception cref="ObjectDisposedException">The session has been disposed.</exception>
    public void Reset()
    {
        using Exclusive exclusive = EnterExclusive();
        _engine.ClearMemory();
    }

    /// <summary>Frees the context once any running generation has stopped. Idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        _engine.Dispose();
    }

    /// <summary>How many prompt tokens llama.cpp's own performance counters saw this context evaluate.</summary>
    internal int NativePromptTokensEvaluated() => _engine.NativePromptTokensEvaluated;

    private async IAsyncEnumerable<LlamaGenerationUpdate> StreamCoreAsync(
        int[] promptTokens,
        LlamaGenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int[] prompt = _engine.FitPrompt(promptTokens, options);
        cancellationToken.ThrowIfCancellationRequested();
        Exclusive exclusive = EnterExclusive();
        var request = new GenerationRequest(prompt, options, cancellationToken);
        try
        {
            await foreach (LlamaGenerationUpdate update in _engine.StreamAsync(request, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            // The engine's stream ends only once the engine has let go of the request, so the next operation finds
            // the context idle.
            LastFinishReason = request.FinishReason;
            LastUsage = request.Usage;
            exclusive.Dispose();
        }
    }

    private static async IAsyncEnumerable<string> TextOnly(IAsyncEnumerable<LlamaGenerationUpdate> updates, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (LlamaGenerationUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (update.Text.Length > 0)
            {
                yield return update.Text;
            }
        }
    }

    private Exclusive EnterExclusive()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                "This LlamaSession is already running an operation. A session's context serves one operation at a time: " +
                "await the current generation (or state save/load) first, or create another session over the same model.");
        }

        return new Exclusive(this);
    }

    private readonly struct Exclusive(LlamaSession session) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref session._busy, 0);
    }
}
