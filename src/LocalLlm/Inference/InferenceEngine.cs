using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// The one generation loop. An engine owns a context and its sequences; its loop admits waiting requests into free
/// sequences, fills one batch with every generating sequence's next token and chunks of the prompts being evaluated,
/// decodes it, samples each sequence from its own row, and hands the updates to the callers. A
/// <see cref="LlamaSession"/> is an engine with one sequence, a <see cref="LlamaScheduler"/> one with many, and the
/// chat client drives one directly; what happens to a token is written once, here.
/// </summary>
/// <remarks>
/// Callers' loop bodies run on the loop's thread between decode steps (see <see cref="InferenceLoopThread"/>). A
/// cancelled request leaves at the next step; when every request in the batch being decoded is cancelled, the decode
/// itself is aborted.
/// </remarks>
internal sealed partial class InferenceEngine : IDisposable
{
    private readonly LlamaModel _model;
    private readonly InferenceEngineSettings _settings;
    private readonly SafeLlamaContextHandle _context;
    private readonly AbortFlag _abort = new();
    private readonly SemaphoreSlim _queueCapacity;
    private readonly HashSet<LlamaModel> _checkedDraftModels = [];
    private readonly List<GenerationRequest> _waiting = []; // first come, first served; locked, as callers add to it
    private readonly GenerationRequest?[] _slots;
    private readonly SequencePromptCache _sequences;
    private readonly InferenceLoopThread _loopThread;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly NativeBatch _batch;
    private readonly ThreadBudget? _threadBudget;
    private int _disposed;

    /// <summary>Creates the context and starts the loop.</summary>
    /// <exception cref="LlamaException">llama.cpp could not create the context.</exception>
    public InferenceEngine(LlamaModel model, InferenceEngineSettings settings)
    {
        model.ThrowIfCannotGenerate(settings.OwnerName);
        _model = model;
        _settings = settings;
        int sequences = settings.Context.SequenceCount ?? 1;
        string what = sequences == 1 ? $"a {settings.Context.ContextSize}-token context" : $"a {sequences}-sequence context";
        _context = SafeLlamaContextHandle.Create(model.Handle, settings.Context, _abort, $"{what} for '{model.Path}'");
        _logger = settings.Loop.LoggerFactory?.CreateLogger<LlamaScheduler>() ?? NullLogger<LlamaScheduler>.Instance;
        AttachThreadPools(settings);
        if (settings.Loop.AdaptThreadsToLoad)
        {
            _threadBudget = new ThreadBudget(settings.Context.ThreadCount, settings.Context.BatchThreadCount);
        }

        ContextSize = _context.ContextSize;
        SequenceContextSize = _context.SequenceContextSize;
        BatchSize = _context.BatchSize;
        _batch = new NativeBatch(BatchSize);
        _slots = new GenerationRequest?[sequences];
        _batchRequests = new List<GenerationRequest>(sequences);
        _sequences = new SequencePromptCache(sequences);
        _queueCapacity = new SemaphoreSlim(settings.Loop.MaxQueuedRequests, settings.Loop.MaxQueuedRequests);
        _loopThread = new InferenceLoopThread($"LocalLlm {settings.OwnerName} ({Path.GetFileName(model.Path)})", Run, settings.Loop.CallerStallLimit, OnLoopStalled, OthersWaiting);
        _loopThread.Start();
    }

    /// <summary>Gets the whole context window in tokens.</summary>
    public int ContextSize { get; }

    /// <summary>Gets each sequence's context window in tokens.</summary>
    public int SequenceContextSize { get; }

    /// <summary>Gets the most tokens one decode call takes.</summary>
    public int BatchSize { get; }

    /// <summary>Gets how many times a full sequence has shifted to make room.</summary>
    public int ShiftCount { get; private set; }

    /// <summary>Gets how many requests are generating right now.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>For tests: the threads the context's single-token decodes use now.</summary>
    public int DecodeThreadCount => _context.ThreadCount;

    /// <summary>For tests: how many times a caller's loop body held the loop's thread past the stall limit.</summary>
    public int LoopMoves => _loopThread.Moves;

    /// <summary>How many prompt tokens llama.cpp's own performance counters saw this context evaluate.</summary>
    public int NativePromptTokensEvaluated => _context.PromptTokensEvaluated;

    /// <summary>
    /// Checks a prompt and makes it fit a sequence: one free cell is needed for the first generated token, so a prompt
    /// as long as the sequence's window is cut (keeping its first tokens and its end) when the options ask for
    /// truncation, and rejected otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty.</exception>
    /// <exception cref="LlamaContextOverflowException">The prompt does not fit and truncation was not asked for.</exception>
    public int[] FitPrompt(int[] promptTokens, LlamaGenerationOptions options)
    {
        if (promptTokens.Length == 0)
        {
            throw new ArgumentException("The prompt has no tokens; give at least one token (or add the beginning-of-sequence token).", nameof(promptTokens));
        }

        int window = SequenceContextSize;
        if (promptTokens.Length < window)
        {
            return promptTokens;
        }

        if (!options.TruncatePrompt)
        {
            throw new LlamaContextOverflowException(promptTokens.Length, window);
        }

        int keep = Math.Min(KeepTokenCount(promptTokens), window / 2);
        int reserve = Math.Clamp(options.MaxTokens ?? window / 4, 1, window / 2);
        int tail = window - keep - reserve;
        return [.. promptTokens.AsSpan(0, keep), .. promptTokens.AsSpan(promptTokens.Length - tail)];
    }

    /// <summary>
    /// Queues <paramref name="request"/> and streams its updates. Stopping the enumeration early (or cancelling the
    /// request's token) drops the request at the loop's next step; the enumeration's end waits for that.
    /// </summary>
    /// <exception cref="LlamaQueueFullException">The queue is full and the behaviour is <see cref="LlamaQueueFullBehavior.Fail"/>.</exception>
    public async IAsyncEnumerable<LlamaGenerationUpdate> StreamAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CancellationToken requestToken = request.CancellationToken;
        bool queued = false;
        try
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this); // the owners check first and name themselves; this is the race's backstop
            request.Adapters.ThrowIfNotFor(_model);
            if (request.Options.Speculation?.DraftModel is { } draftModel)
            {
                CheckDraftModel(draftModel);
            }

            if (!_queueCapacity.Wait(0, CancellationToken.None))
            {
                if (_settings.Loop.QueueFullBehavior == LlamaQueueFullBehavior.Fail)
                {
                    throw new LlamaQueueFullException(_settings.Loop.MaxQueuedRequests);
                }

                await WaitForRoomAsync(requestToken, cancellationToken).ConfigureAwait(false);
            }

            lock (_waiting)
            {
                if (IsDisposed)
                {
                    throw new ObjectDisposedException($"LocalLlm {_settings.OwnerName}", "It was disposed before the request started.");
                }

                _waiting.Add(request);
                queued = true;
                LlamaMetrics.RequestQueued();
            }
        }
        finally
        {
            // A request the engine never took is let go here (its adapters above all); the engine disposes the rest.
            if (!queued)
            {
                request.Dispose();
            }
        }

        Signal();
        using CancellationTokenRegistration stop = requestToken.UnsafeRegister(static state => ((InferenceEngine)state!).OnCancelled(), this);
        using CancellationTokenRegistration stopReading = cancellationToken.UnsafeRegister(state =>
        {
            ((GenerationRequest)state!).Abandon();
            OnCancelled();
        }, request);
        bool completed = false;
        try
        {
            await foreach (LlamaGenerationUpdate update in request.Updates.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return update;
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                request.Abandon();
                OnCancelled();
                await request.Retired.ConfigureAwait(false);
            }

            // The last update reached the reader inline on the loop's thread, so without this the caller's code after
            // the stream (disposing the session and the model, stopping an RPC worker) would run there too, where the
            // engine can only defer freeing its context until the loop returns: after the worker is gone. One hop per
            // request, never per token.
            if (_loopThread.IsCurrentThread)
            {
                await Task.Yield();
            }
        }
    }

    // The vocabulary comparison reads every token of both models: done once per draft model.
    private void CheckDraftModel(LlamaModel draftModel)
    {
        lock (_checkedDraftModels)
        {
            if (!_checkedDraftModels.Contains(draftModel))
            {
                ModelDrafter.ThrowIfIncompatible(_model, draftModel);
                _checkedDraftModels.Add(draftModel);
            }
        }
    }

    /// <summary>Waits for room in the queue; the engine's disposal ends the wait.</summary>
    private async Task WaitForRoomAsync(CancellationToken requestToken, CancellationToken readerToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestToken, readerToken, _shutdown.Token);
        try
        {
            await _queueCapacity.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!requestToken.IsCancellationRequested && !readerToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException($"LocalLlm {_settings.OwnerName}", "It was disposed while the request waited for room in the queue.");
        }
    }

    /// <summary>
    /// Stops every request, waits for the loop to end, and frees the context. Idempotent. Called from a caller's loop
    /// body running on the loop's thread, it returns at once and the loop frees the context as it exits.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_decodeGate)
        {
            _abort.Abort = true;
        }

        _shutdown.Cancel();
        if (_loopThread.TryFreeOnExit())
        {
            return;
        }

        _loopThread.Join();
        FreeNativeResources();
    }

    /// <summary>For tests: the highest position each sequence holds in the KV cache (-1 when empty).</summary>
    public int[] SequencePositions() => Enumerable.Range(0, _slots.Length).Select(_context.HighestPosition).ToArray();

    /// <summary>How many tokens sequence 0 holds in the KV cache.</summary>
    public int HeldTokenCount => _sequences.Count(0);

    // A session's state and reset: called only while no request is queued or admitted (the session runs one
    // operation at a time), so the loop does not touch the context meanwhile.

    /// <summary>The tokens sequence 0 holds.</summary>
    public int[] HeldTokens() => [.. _sequences.Tokens(0)];

    /// <summary>Clears the KV cache and what every sequence is known to hold.</summary>
    public void ClearMemory()
    {
        _context.ClearMemory();
        for (int sequence = 0; sequence < _slots.Length; sequence++)
        {
            _sequences.Forget(sequence);
        }
    }

    /// <summary>Gets the context, for a session's state to be saved into or restored from.</summary>
    internal SafeLlamaContextHandle Context => _context;

    /// <summary>After a whole-context state was restored: sequence 0 holds <paramref name="tokens"/>.</summary>
    public void RestoredHolding(int[] tokens) => _sequences.Hold(0, tokens);

    /// <summary>The tokens at the start that a shift or a truncation keeps: the configured count, and the BOS token.</summary>
    private int KeepTokenCount(IReadOnlyList<int> tokens)
    {
        int configured = _settings.Loop.ShiftKeepTokens;
        int keep = configured == 0 && tokens.Count > 0 && tokens[0] == _model.Tokenizer.BeginningOfSequenceToken ? 1 : configured;
        return Math.Min(keep, tokens.Count);
    }

    /// <summary>
    /// Whether anything but the request whose body blocks needs the loop: another generating or waiting request, or
    /// a disposal (which joins the loop, perhaps from the thread the body waits for). Read from the watchdog thread:
    /// a count may be a step behind.
    /// </summary>
    private bool OthersWaiting(object? blockedOwner)
    {
        int others = Volatile.Read(ref _active) - (blockedOwner is GenerationRequest { Sequence: >= 0 } ? 1 : 0);
        return IsDisposed || others > 0 || _waiting.Count > 0;
    }

    private void OnLoopStalled(TimeSpan held, bool moved) =>
        LogLoopStalled(_logger, _settings.OwnerName, (long)held.TotalMilliseconds, (long)_settings.Loop.CallerStallLimit.TotalMilliseconds,
            moved ? "the loop moved to a new thread so the other streams go on" : "nothing else was waiting, so the loop waits for it (it moves to a new thread if another stream comes)");

    [LoggerMessage(Level = LogLevel.Warning, Message = "A caller's loop body held the {Owner}'s thread for {HeldMs} ms (limit {LimitMs} ms); {Outcome}. Await instead of blocking inside 'await foreach'.")]
    private static partial void LogLoopStalled(ILogger logger, string owner, long heldMs, long limitMs, string outcome);

    /// <summary>
    /// Gives the context persistent worker threads: one pool, or two when prompts and generation use different counts.
    /// The context keeps them alive and frees them after itself.
    /// </summary>
    private void AttachThreadPools(InferenceEngineSettings settings)
    {
        SafeGgmlThreadPoolHandle? threads = null, batchThreads = null;
        try
        {
            threads = SafeGgmlThreadPoolHandle.Create(settings.Context.ThreadCount, settings.Loop.ThreadPolling);
            batchThreads = settings.Context.BatchThreadCount == settings.Context.ThreadCount
                ? threads
                : SafeGgmlThreadPoolHandle.Create(settings.Context.BatchThreadCount, settings.Loop.ThreadPolling);
            _context.AttachThreadPools(threads, batchThreads);
        }
        catch (Exception ex) when (ex is LlamaException or EntryPointNotFoundException)
        {
            // A backend without CPU threadpools still decodes, with llama.cpp's threads made per decode.
            LogNoThreadPool(_logger, ex.Message);
        }
        finally
        {
            // The context holds references of its own; these release the engine's.
            threads?.Dispose();
            batchThreads?.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No persistent threadpool: {Reason}")]
    private static partial void LogNoThreadPool(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Other processes keep {BusyCores:F1} cores busy: decoding with {Threads} threads ({BatchThreads} for prompts)")]
    private static partial void LogThreadBudget(ILogger logger, double busyCores, int threads, int batchThreads);

    private void FreeNativeResources()
    {
        _sequences.ReleaseAll();
        foreach (ModelDrafter drafter in _drafters?.Values ?? Enumerable.Empty<ModelDrafter>())
        {
            drafter.Dispose();
        }

        _batch.Dispose();
        _context.Dispose();
        _abort.Dispose();
        _shutdown.Dispose();
    }
}
