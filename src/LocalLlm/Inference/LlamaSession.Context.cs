using LocalLlm.Native;

namespace LocalLlm;

// KV-cache bookkeeping. Runs on the worker thread (or under the session's exclusive flag); _evaluated mirrors
// exactly the tokens sequence 0 holds in the KV cache.
public sealed partial class LlamaSession
{
    /// <summary>
    /// Keeps the longest prefix of <paramref name="prompt"/> already in the KV cache and drops the rest. At least the
    /// last prompt token is always evaluated again, because its logits are what the first sample needs.
    /// </summary>
    /// <returns>How many prompt tokens are reused.</returns>
    private int ReuseCachedPrefix(int[] prompt)
    {
        lock (_evaluated)
        {
            int common = 0;
            int limit = Math.Min(_evaluated.Count, prompt.Length - 1);
            while (common < limit && _evaluated[common] == prompt[common])
            {
                common++;
            }

            if (!_context.RemoveTokens(0, common, -1))
            {
                // Some memories (recurrent models) cannot drop a partial sequence: start over.
                _context.ClearMemory();
                common = 0;
            }

            _evaluated.RemoveRange(common, _evaluated.Count - common);
            return common;
        }
    }

    /// <summary>Decodes <paramref name="tokens"/> after what the session holds, in chunks of the batch size.</summary>
    private void Evaluate(ReadOnlySpan<int> tokens, Action throwIfCancelled)
    {
        for (int offset = 0; offset < tokens.Length; offset += BatchSize)
        {
            throwIfCancelled();
            int count = Math.Min(BatchSize, tokens.Length - offset);
            int status = _context.Decode(tokens.Slice(offset, count));
            if (status != 0)
            {
                SyncEvaluatedWithMemory(tokens, offset);
                throwIfCancelled();
                throw status == 1
                    ? new LlamaException($"llama_decode found no room in the KV cache for {count} tokens ({_evaluated.Count} of {ContextSize} in use).")
                    : new LlamaException($"llama_decode failed with status {status}.");
            }

            lock (_evaluated)
            {
                _evaluated.AddRange(tokens.Slice(offset, count));
            }
        }
    }

    /// <summary>After an aborted or failed decode, keeps the bookkeeping equal to what the KV cache really holds.</summary>
    private void SyncEvaluatedWithMemory(ReadOnlySpan<int> chunkSource, int offset)
    {
        int held = _context.HighestPosition(0) + 1;
        lock (_evaluated)
        {
            int added = Math.Clamp(held - _evaluated.Count, 0, chunkSource.Length - offset);
            _evaluated.AddRange(chunkSource.Slice(offset, added));
            if (_evaluated.Count > held)
            {
                _evaluated.RemoveRange(held, _evaluated.Count - held);
            }
        }
    }

    /// <summary>
    /// Frees a cell for the next token when the context is full: under <see cref="LlamaContextOverflowPolicy.Shift"/>
    /// keeps the first tokens, discards half of the rest and moves the remainder down.
    /// </summary>
    /// <returns>False when the context is full and cannot (or may not) shift.</returns>
    private bool MakeRoomForOneToken()
    {
        lock (_evaluated)
        {
            int past = _evaluated.Count;
            if (past < ContextSize)
            {
                return true;
            }

            if (Options.OverflowPolicy == LlamaContextOverflowPolicy.Stop || !_context.CanShift)
            {
                return false;
            }

            (int keep, int discard) = ContextShift.Apply(_context, 0, past, KeepTokenCount(_evaluated));
            _evaluated.RemoveRange(keep, discard);
            ShiftCount++;
            return true;
        }
    }

    /// <summary>Gets how many times generation has shifted the context because it was full.</summary>
    public int ShiftCount { get; private set; }

    /// <summary>How many prompt tokens llama.cpp's own performance counters saw this context evaluate.</summary>
    internal int NativePromptTokensEvaluated() => _context.PromptTokensEvaluated;
}
