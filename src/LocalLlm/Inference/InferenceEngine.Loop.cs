using System.Runtime.CompilerServices;
using LocalLlm.Native;

namespace LocalLlm;

// The step: admit waiting requests into free sequences, put one token of every generating sequence and a chunk of
// every prompt being evaluated into one batch, decode once, sample each sequence from its own row, retire the finished
// ones, then hand the step's updates to the callers. Only the loop's thread touches the context and the admitted
// requests.
internal sealed partial class InferenceEngine
{
    private readonly SemaphoreSlim _arrivals = new(0);
    private readonly List<GenerationRequest> _batchRequests;
    private readonly object _decodeGate = new();
    private bool _decoding;
    private int _active;
    private int _prefillCursor;

    /// <summary>For tests: decode steps in which generating streams advanced together with a prompt chunk.</summary>
    public int InterleavedSteps { get; private set; }

    // The semaphores are never disposed (they hold no wait handle), so waking a loop that has ended is harmless.
    private void Signal() => _arrivals.Release();

    /// <summary>A request was cancelled or abandoned: wake the loop, and abort the decode in progress when nothing in its batch is wanted any more.</summary>
    private void OnCancelled()
    {
        lock (_decodeGate)
        {
            if (_decoding && _batchRequests.TrueForAll(static r => r.IsCancelled))
            {
                _abort.Abort = true;
            }
        }

        Signal();
    }

    /// <summary>
    /// The loop. Returns early, touching nothing, when a caller's loop body held the thread so long that the loop
    /// moved to another thread (see <see cref="InferenceLoopThread"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run()
    {
        Span<byte> piece = stackalloc byte[256];
        while (!IsDisposed)
        {
            try
            {
                RetireCancelled();
                Admit();
                if (!_loopThread.Deliver())
                {
                    return;
                }

                if (_active == 0)
                {
                    _loopThread.Idle();
                    _arrivals.Wait(_shutdown.Token);
                    _loopThread.Busy();
                    continue;
                }

                if (BuildBatch() == 0)
                {
                    continue;
                }

                int status = Decode();
                if (status == 0)
                {
                    SampleAndAdvance(piece);
                }
                else if (!IsDisposed) // Dispose raises the abort flag first: that abort is the disposal, not a failure
                {
                    RollBack(status);
                }
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Nothing may escape the loop: the requests in flight learn what went wrong, later ones still run.
                FailActive(ex);
            }

            if (!_loopThread.Deliver())
            {
                return;
            }
        }

        Exception disposed = _settings.DisposedFailure();
        FailActive(disposed);
        FailWaiting(static _ => true, _ => disposed);
        if (!_loopThread.Deliver())
        {
            return;
        }

        if (_loopThread.FreeOnExit)
        {
            FreeNativeResources();
        }

        _loopThread.End();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Admit()
    {
        Span<bool> free = stackalloc bool[_slots.Length];
        while (_active < _slots.Length && NextWaiting() is { } request)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                free[i] = _slots[i] is null;
            }

            (int sequence, int reused) = _sequences.Choose(request.Prompt, free);
            _sequenceAdapters ??= [.. Enumerable.Repeat(string.Empty, _slots.Length)];
            if (_sequenceAdapters[sequence] != request.Adapters.Key)
            {
                reused = 0;
                _sequenceAdapters[sequence] = request.Adapters.Key;
            }

            if (_context.RemoveTokens(sequence, reused, -1))
            {
                _sequences.Truncate(sequence, reused);
            }
            else
            {
                // Some memories (recurrent models) cannot drop part of a sequence: start it over.
                _context.RemoveSequence(sequence);
                _sequences.Forget(sequence);
                reused = 0;
            }

            try
            {
                request.Admit(sequence, reused, request.Options.Sampling.CreateNativeSampler(_model.Tokenizer, _settings.Loop.Seed, request.Options.Chat, SequenceContextSize), _model.Tokenizer);
            }
            catch (Exception ex)
            {
                // A request that cannot start (its grammar does not parse, say) fails alone.
                request.Fail(ex, _loopThread);
                request.Dispose();
                continue;
            }

            _slots[sequence] = request;
            Volatile.Write(ref _active, _active + 1);
        }
    }

    private GenerationRequest? NextWaiting()
    {
        lock (_waiting)
        {
            if (_waiting.Count == 0)
            {
                return null;
            }

            GenerationRequest next = _waiting[0];
            _waiting.RemoveAt(0);
            LlamaMetrics.RequestDequeued();
            _queueCapacity.Release();
            return next;
        }
    }

    /// <summary>Cancelled requests leave at once, whether generating or waiting for a sequence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RetireCancelled()
    {
        foreach (GenerationRequest? request in _slots)
        {
            if (request is not null && request.IsCancelled)
            {
                request.Fail(new OperationCanceledException("The generation was cancelled.", request.CancellationToken), _loopThread);
                Release(request);
            }
        }

        // Read without the lock: a request cancelled as it arrives is seen at the next step.
        if (_waiting.Count > 0)
        {
            FailWaiting(static r => r.IsCancelled, static r => new OperationCanceledException("The request was cancelled while it waited.", r.CancellationToken));
        }
    }

    private void FailWaiting(Predicate<GenerationRequest> match, Func<GenerationRequest, Exception> error)
    {
        lock (_waiting)
        {
            for (int i = _waiting.Count - 1; i >= 0; i--)
            {
                GenerationRequest request = _waiting[i];
                if (match(request))
                {
                    _waiting.RemoveAt(i);
                    LlamaMetrics.RequestDequeued();
                    _queueCapacity.Release();
                    request.Fail(error(request), _loopThread);
                    request.Dispose();
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int BuildBatch()
    {
        _batch.Clear();
        _batchRequests.Clear();

        // llama.cpp applies one set of LoRA adapters per decode: a step takes the requests that share the set of the
        // first ready request from a cursor that moves each step, so requests with different adapters take turns.
        string adapters = StepAdapters();

        // Every generating sequence advances by one token each step, whatever the prompts waiting beside it.
        foreach (GenerationRequest? request in _slots)
        {
            if (request is { Prefilling: false, PendingToken: >= 0 } && request.Adapters.Key == adapters)
            {
                int position = _sequences.Count(request.Sequence);
                request.OutputRow = _batch.Add(request.PendingToken, position, request.Sequence, output: true);
                _batchRequests.Add(request);
                if (request.History is { } history && _context.CanShift)
                {
                    AddDraft(request, history, position);
                }
            }
        }

        // Prompts fill the rest of the batch in chunks, starting from a different request each step.
        int generating = _batch.Count;
        for (int i = 0; i < _slots.Length && _batch.Count < BatchSize; i++)
        {
            GenerationRequest? request = _slots[(_prefillCursor + i) % _slots.Length];
            if (request is null || !request.Prefilling || request.Adapters.Key != adapters)
            {
                continue;
            }

            int chunk = Math.Min(Math.Min(_settings.Loop.PromptChunkSize, request.Prompt.Length - request.PromptEvaluated), BatchSize - _batch.Count);
            int start = _sequences.Count(request.Sequence);
            for (int t = 0; t < chunk; t++)
            {
                int index = request.PromptEvaluated + t;
                bool last = index == request.Prompt.Length - 1;
                int row = _batch.Add(request.Prompt[index], start + t, request.Sequence, output: last);
                if (last)
                {
                    request.OutputRow = row;
                }
            }

            request.PromptChunk = chunk;
            _batchRequests.Add(request);
        }

        if (generating > 0 && _batch.Count > generating)
        {
            InterleavedSteps++;
        }

        _prefillCursor = (_prefillCursor + 1) % _slots.Length;
        return _batch.Count;
    }

    /// <summary>Decodes the batch, abortable while every request in it is cancelled; returns llama.cpp's status.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Decode()
    {
        lock (_decodeGate)
        {
            _decoding = true;
            if (_batchRequests.TrueForAll(static r => r.IsCancelled))
            {
                _abort.Abort = true;
            }
        }

        try
        {
            ApplyBatchAdapters();
            if (_threadBudget?.Update() == true)
            {
                _context.SetThreadCounts(_threadBudget.Threads, _threadBudget.BatchThreads);
                LogThreadBudget(_logger, _threadBudget.OtherProcessesCores, _threadBudget.Threads, _threadBudget.BatchThreads);
            }

            return _context.Decode(_batch);
        }
        finally
        {
            lock (_decodeGate)
            {
                _decoding = false;
                _abort.Abort = IsDisposed;
            }
        }
    }

    /// <summary>After a successful decode: records what each sequence now holds, then samples every request that has a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SampleAndAdvance(Span<byte> piece)
    {
        foreach (GenerationRequest request in _batchRequests)
        {
            if (request.PromptChunk > 0)
            {
                _sequences.Append(request.Sequence, request.Prompt.AsSpan(request.PromptEvaluated, request.PromptChunk));
                request.PromptEvaluated += request.PromptChunk;
                request.PromptChunk = 0;
            }
            else
            {
                _sequences.Append(request.Sequence, [request.PendingToken]);
            }
        }

        foreach (GenerationRequest request in _batchRequests)
        {
            if (request.OutputRow < 0)
            {
                continue;
            }

            LlamaFinishReason? reason;
            try
            {
                reason = request.DraftLength > 0
                    ? SampleDraft(request, piece)
                    : request.SampleAndAccept(_context, _model.Tokenizer, piece, _loopThread);
                if (reason is null && !MakeRoomForNextToken(request))
                {
                    reason = LlamaFinishReason.ContextFull;
                }
            }
            catch (LlamaException ex)
            {
                // One request's sampling failure (its grammar has no way on, say) is that request's alone.
                request.Fail(ex, _loopThread);
                Release(request);
                continue;
            }

            if (reason is not null)
            {
                request.Finish(reason.Value, _loopThread);
                Release(request);
            }
        }
    }
}
