namespace LocalLlm;

/// <summary>
/// The tokens each idle sequence of a <see cref="LlamaScheduler"/> still holds in the KV cache (with
/// <see cref="LlamaSchedulerOptions.ReusePromptCache"/>), and the choice of sequence for a new request: the free one
/// whose tokens share the longest prefix with its prompt, as llama-server picks a slot by prompt similarity. Touched
/// only by the scheduler's loop.
/// </summary>
internal sealed class SequencePromptCache
{
    private readonly int[][] _held;
    private readonly int[] _heldPromptLength;
    private readonly long[] _heldSince;
    private long _clock;

    public SequencePromptCache(int sequences)
    {
        _held = Enumerable.Repeat(Array.Empty<int>(), sequences).ToArray();
        _heldPromptLength = new int[sequences];
        _heldSince = new long[sequences];
    }

    /// <summary>
    /// Picks a free sequence for <paramref name="prompt"/>; returns it with how many of the prompt's first tokens it
    /// already holds (never the whole prompt: the last token is evaluated again for its logits). A sequence counts as
    /// a match only when the prompt continues the whole prompt it holds (the next turn of that conversation; the reply
    /// may differ, since templates re-render it). Sharing a beginning-of-sequence token or a system prompt, however
    /// long, must not take another conversation's cache: then an empty sequence is taken, or else the one whose tokens
    /// have waited longest (least recently used), so that recent conversations keep theirs.
    /// </summary>
    public (int Sequence, int Reused) Choose(int[] prompt, ReadOnlySpan<bool> free)
    {
        int best = -1;
        int bestScore = -1;
        int bestReused = 0;
        for (int sequence = 0; sequence < _held.Length; sequence++)
        {
            if (!free[sequence])
            {
                continue;
            }

            int[] held = _held[sequence];
            int reused = CommonPrefix(held, prompt);
            int score = reused >= Math.Min(_heldPromptLength[sequence], prompt.Length - 1) ? reused : 0;
            if (score > bestScore || (score == bestScore && EvictsBefore(sequence, best)))
            {
                (best, bestScore, bestReused) = (sequence, score, reused);
            }
        }

        return best < 0 ? throw new InvalidOperationException("No free sequence.") : (best, bestReused);
    }

    /// <summary>Records what an idle sequence holds: <paramref name="tokens"/>, of which the first <paramref name="promptLength"/> were its prompt (all when null).</summary>
    public void Hold(int sequence, int[] tokens, int? promptLength = null)
    {
        _held[sequence] = tokens;
        _heldPromptLength[sequence] = Math.Min(promptLength ?? tokens.Length, tokens.Length);
        _heldSince[sequence] = ++_clock;
    }

    /// <summary>The sequence's tokens are no longer known to be in the cache (it was cleared, or a request now owns it).</summary>
    public void Forget(int sequence)
    {
        _held[sequence] = [];
        _heldPromptLength[sequence] = 0;
    }

    /// <summary>Whether <paramref name="sequence"/> is the better one to give away than <paramref name="other"/>: empty first, then the least recently used.</summary>
    private bool EvictsBefore(int sequence, int other) =>
        (_held[sequence].Length == 0) != (_held[other].Length == 0)
            ? _held[sequence].Length == 0
            : _heldSince[sequence] < _heldSince[other];

    private static int CommonPrefix(int[] held, int[] prompt)
    {
        int limit = Math.Min(held.Length, prompt.Length - 1);
        int common = 0;
        while (common < limit && held[common] == prompt[common])
        {
            common++;
        }

        return common;
    }
}
