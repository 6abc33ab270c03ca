using LocalLlm.Native;

namespace LocalLlm;

// How requests leave the loop: a failed step rolled back, a request finished or failed and its sequence freed.
internal sealed partial class InferenceEngine
{
    /// <summary>
    /// After a failed or aborted decode: removes from each sequence in the batch whatever part of it llama.cpp had
    /// already stored, so the KV cache holds exactly what was known before the step. An aborted batch holds only
    /// cancelled requests, which the next step retires; any other failure fails the batch's requests.
    /// </summary>
    private void RollBack(int status)
    {
        foreach (GenerationRequest request in _batchRequests)
        {
            int held = _sequences.Count(request.Sequence);
            if (!_context.RemoveTokens(request.Sequence, held, -1))
            {
                _context.RemoveSequence(request.Sequence);
                _sequences.Forget(request.Sequence);
            }

            request.PromptChunk = 0;
            request.OutputRow = -1;
            request.DraftLength = 0;
        }

        if (status == 2 && _batchRequests.TrueForAll(static r => r.IsCancelled))
        {
            return;
        }

        foreach (GenerationRequest request in _batchRequests)
        {
            string reason = status == 1
                ? $"llama_decode found no room in the KV cache for a batch of {_batch.Count} tokens (this sequence holds {_sequences.Count(request.Sequence)} of {SequenceContextSize})."
                : $"llama_decode failed with status {status} for a batch of {_batch.Count} tokens.";
            request.Fail(new LlamaException(reason), _loopThread);
            Release(request);
        }
    }

    /// <summary>
    /// Frees a cell for the request's next token when its sequence is full: under
    /// <see cref="LlamaContextOverflowPolicy.Shift"/> keeps the first tokens, discards half of the rest and moves the
    /// remainder back, leaving the other sequences untouched.
    /// </summary>
    /// <returns>False when the sequence is full and cannot (or may not) shift.</returns>
    private bool MakeRoomForNextToken(GenerationRequest request)
    {
        int held = _sequences.Count(request.Sequence);
        if (held < SequenceContextSize)
        {
            return true;
        }

        if (_settings.Loop.OverflowPolicy == LlamaContextOverflowPolicy.Stop || !_context.CanShift)
        {
            return false;
        }

        // As llama.cpp's examples do: keep the first tokens, drop half of the rest, move what follows back.
        int keep = Math.Min(KeepTokenCount(_sequences.Tokens(request.Sequence)), held - 2);
        int discard = (held - keep) / 2;
        _context.RemoveTokens(request.Sequence, keep, keep + discard);
        _context.ShiftPositions(request.Sequence, keep + discard, held, -discard);
        _sequences.Remove(request.Sequence, keep, discard);
        ShiftCount++;
        return true;
    }

    private void FailActive(Exception exception)
    {
        foreach (GenerationRequest? request in _slots)
        {
            if (request is not null)
            {
                request.Fail(exception, _loopThread);
                Release(request);
            }
        }
    }

    /// <summary>
    /// Frees the request's sequence at once, leaving the other sequences untouched. With
    /// <see cref="LlamaSchedulerOptions.ReusePromptCache"/> the sequence keeps its tokens in the KV cache for the next
    /// request that starts the same way; otherwise its cells are freed.
    /// </summary>
    private void Release(GenerationRequest request)
    {
        int sequence = request.Sequence;
        if (_settings.Loop.ReusePromptCache)
        {
            _sequences.MarkHeld(sequence, request.Prompt.Length);
        }
        else
        {
            _context.RemoveSequence(sequence);
            _sequences.Forget(sequence);
        }

        _slots[sequence] = null;
        Volatile.Write(ref _active, _active - 1);
        request.Sequence = -1;
        request.Dispose();
    }
}
