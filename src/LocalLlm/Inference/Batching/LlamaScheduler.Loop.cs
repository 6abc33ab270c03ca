using LocalLlm.Native;

namespace LocalLlm;

// The loop: admit waiting requests into free sequences, put one token of every generating sequence and a chunk of
// every prefilling prompt into one batch, decode once, sample each sequence from its own row, retire the finished
// ones, then hand the step's updates to the callers. Only the loop's thread touches the context and the admitted
// requests.
public sealed partial class LlamaScheduler
{
    private readonly SemaphoreSlim _arrivals = new(0);
    private int _prefillCursor;

    /// <summary>For tests: decode steps in which generating streams advanced together with a prompt chunk.</summary>
    internal int InterleavedSteps { get; private set; }

    private void Signal()
    {
        try
        {
            if (!IsDisposed)
            {
                _arrivals.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the release: the loop has ended and needs no wake-up.
        }
    }

    /// <summary>
    /// The loop. Returns early, touching nothing, when a caller's loop body held the thread so long that the loop
    /// moved to another thread (see <see cref="SchedulerLoopThread"/>).
    /// </summary>
    private void Run()
    {
        Span<byte> piece = stackalloc byte[256];
        while (!_shutdown.IsCancellationRequested)
        {
            try
            {
                Admit();
                RetireCancelled();
                if (!_loopThread.Deliver())
                {
                    return;
                }

                if (!_slots.Any(s => s is not null))
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

                int status = _context.Decode(_batch);
                if (status != 0)
                {
                    if (_shutdown.IsCancellationRequested)
                    {
                        break;
                    }

                    FailActive(new LlamaException($"llama_decode failed with status {status} for a batch of {_batch.Count} tokens."));
                }
                else
                {
                    SampleAndAdvance(piece);
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

        var disposed = new ObjectDisposedException(nameof(LlamaScheduler), "The scheduler was disposed while the request was in progress.");
        FailActive(disposed);
        while (_queue.Reader.TryRead(out ScheduledRequest? waiting))
        {
            waiting.Fail(disposed, _loopThread);
        }

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

    private void Admit()
    {
        Span<bool> free = stackalloc bool[_slots.Length];
        while (Array.IndexOf(_slots, null) >= 0 && NextRequest() is { } request)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                free[i] = _slots[i] is null;
            }

            (int sequence, int reused) = _promptCache.Choose(request.Prompt, free);
            if (!_context.RemoveTokens(sequence, reused, -1))
            {
                // Some memories (recurrent models) cannot drop part of a sequence: start it over.
                _context.RemoveSequence(sequence);
                reused = 0;
            }

            _promptCache.Forget(sequence);
            request.MarkAdmitted(sequence, reused);
            _slots[sequence] = request;
        }
    }

    /// <summary>The next waiting request with its sampler ready; requests cancelled while waiting, or with invalid sampling, fail here.</summary>
    private ScheduledRequest? NextRequest()
    {
        while (_queue.Reader.TryRead(out ScheduledRequest? next))
        {
            if (next.IsCancelled)
            {
                next.Fail(new OperationCanceledException("The request was cancelled while it waited.", next.CancellationToken), _loopThread);
                continue;
            }

            try
            {
                next.UseSampler(next.Options.Sampling.CreateNativeSampler(Model.Tokenizer, Options.Seed, next.Options.Chat));
                return next;
            }
            catch (Exception ex) when (ex is ArgumentException or LlamaException)
            {
                next.Fail(ex, _loopThread);
            }
        }

        return null;
    }

    private void RetireCancelled()
    {
        foreach (ScheduledRequest? request in _slots)
        {
            if (request is not null && request.IsCancelled)
            {
                Release(request);
                request.Fail(new OperationCanceledException("The request was cancelled.", request.CancellationToken), _loopThread);
            }
        }
    }

    private int BuildBatch()
    {
        _batch.Clear();

        // Every generating sequence advances by one token each step, whatever the prompts waiting beside it.
        foreach (ScheduledRequest? request in _slots)
        {
            if (request is { Prefilling: false, PendingToken: >= 0 })
            {
                request.OutputRow = _batch.Add(request.PendingToken, request.Position, request.Sequence, output: true);
            }
        }

        // Prompts fill the rest of the batch in chunks, starting from a different request each step.
        int generating = _batch.Count;
        for (int i = 0; i < _slots.Length && _batch.Count < BatchSize; i++)
        {
            ScheduledRequest? request = _slots[(_prefillCursor + i) % _slots.Length];
            if (request is null || !request.Prefilling)
            {
                continue;
            }

            int chunk = Math.Min(Math.Min(Options.PromptChunkSize, request.Prompt.Length - request.PromptEvaluated), BatchSize - _batch.Count);
            for (int t = 0; t < chunk; t++)
            {
                int position = request.PromptEvaluated + t;
                bool last = position == request.Prompt.Length - 1;
                int row = _batch.Add(request.Prompt[position], position, request.Sequence, output: last);
                if (last)
                {
                    request.OutputRow = row;
                }
            }

            request.PromptEvaluated += chunk;
        }

        if (generating > 0 && _batch.Count > generating)
        {
            InterleavedSteps++;
        }

        _prefillCursor = (_prefillCursor + 1) % _slots.Length;
        return _batch.Count;
    }

    private void SampleAndAdvance(Span<byte> piece)
    {
        foreach (ScheduledRequest? request in _slots)
        {
            if (request is null || request.OutputRow < 0)
            {
                continue;
            }

            LlamaFinishReason? reason;
            try
            {
                int token = request.Sample(_context);
                request.OutputRow = -1;
                reason = request.Accept(token, Model.Tokenizer, piece, _loopThread);
                if (reason is null && request.Position >= ContextSizePerSequence && !TryShift(request))
                {
                    reason = LlamaFinishReason.ContextFull;
                }
            }
            catch (LlamaException ex)
            {
                // One request's sampling failure (its grammar has no way on, say) is that request's alone.
                Release(request);
                request.Fail(ex, _loopThread);
                continue;
            }

            if (reason is not null)
            {
                Release(request, finished: true);
                request.Finish(reason.Value, _loopThread);
            }
        }
    }

    /// <summary>Makes room for the request's next token in its own sequence, as the session does; false when the options or the model forbid shifting.</summary>
    private bool TryShift(ScheduledRequest request)
    {
        if (Options.OverflowPolicy == LlamaContextOverflowPolicy.Stop || !_context.CanShift)
        {
            return false;
        }

        int keep = ContextShift.KeepCount(Options.ShiftKeepTokens, request.Prompt, Model.Tokenizer.BeginningOfSequenceToken);
        request.Shifted += ContextShift.Apply(_context, request.Sequence, request.Position, keep).Discard;
        ShiftCount++;
        return true;
    }

    private void FailActive(Exception exception)
    {
        foreach (ScheduledRequest? request in _slots)
        {
            if (request is not null)
            {
                Release(request);
                request.Fail(exception, _loopThread);
            }
        }
    }

    /// <summary>
    /// Frees the request's sequence and its KV cells at once, leaving the other sequences untouched; with
    /// <see cref="LlamaSchedulerOptions.ReusePromptCache"/>, a request that finished keeps its tokens in the cache for
    /// the next request that starts the same way.
    /// </summary>
    private void Release(ScheduledRequest request, bool finished = false)
    {
        int sequence = request.Sequence;
        if (finished && Options.ReusePromptCache && request.Shifted == 0)
        {
            _promptCache.Hold(sequence, request.FirstTokens(_context.HighestPosition(sequence) + 1), request.Prompt.Length);
        }
        else
        {
            _context.RemoveSequence(sequence);
        }

        _slots[sequence] = null;
        request.Sequence = -1;
        request.Dispose();
    }
}
