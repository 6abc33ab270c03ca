namespace LocalLlm;

/// <summary>
/// The tokens each sequence of an <see cref="InferenceEngine"/> holds in the KV cache, exactly (appended as they are
/// decoded, cut by shifts and rollbacks), and the choice of sequence for a new request: the free one whose tokens
/// share the longest prefix with its prompt, as llama-server picks a slot by prompt similarity. Written only by the
/// engine's loop (or, for a session's state and reset, while no request is admitted); a count read from another
/// thread may be a step behind.
/// </summary>
internal sealed class SequencePromptCache
{
    private const int Shifted = int.MaxValue;
    private readonly List<int>[] _tokens;
    private readonly int[] _heldPromptLength;
    private readonly long[] _heldSince;
    private long _clock;

    public SequencePromptCache(int sequences)
    {
        _tokens = Enumerable.Range(0, sequences).Select(_ => new List<int>()).ToArray();
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
        for (int sequence = 0; sequence < _tokens.Length; sequence++)
        {
            if (!free[sequence])
            {
                continue;
            }

            int reused = CommonPrefix(_tokens[sequence], prompt);
            int score = reused >= Math.Min(Math.Min(_heldPromptLength[sequence], _tokens[sequence].Count), prompt.Length - 1) ? reused : 0;
            if (score > bestScore || (score == bestScore && EvictsBefore(sequence, best)))
            {
                (best, bestScore, bestReused) = (sequence, score, reused);
            }
        }

        return best < 0 ? throw new InvalidOperationException("No free sequence.") : (best, bestReused);
    }

    /// <summary>Records that an idle sequence holds <paramref name="tokens"/>, of which the first <paramref name="promptLength"/> were its prompt (all when null).</summary>
    public void Hold(int sequence, IReadOnlyList<int> tokens, int? promptLength = null)
    {
        LlamaMetrics.KvCellsChanged(tokens.Count - _tokens[sequence].Count);
        _tokens[sequence].Clear();
        _tokens[sequence].AddRange(tokens);
        _heldPromptLength[sequence] = Math.Min(promptLength ?? tokens.Count, tokens.Count);
        _heldSince[sequence] = ++_clock;
    }

    /// <summary>A request has left the sequence, whose tokens stay: of them, the first <paramref name="promptLength"/> were its prompt (unless a shift cut them).</summary>
    public void MarkHeld(int sequence, int promptLength)
    {
        if (_heldPromptLength[sequence] != Shifted)
        {
            _heldPromptLength[sequence] = Math.Min(promptLength, _tokens[sequence].Count);
        }

        _heldSince[sequence] = ++_clock;
    }

    /// <summary>The sequence holds nothing (it was cleared).</summary>
    public void Forget(int sequence) => Truncate(sequence, 0);

    /// <summary>The sequence keeps only its first <paramref name="count"/> tokens.</summary>
    public void Truncate(int sequence, int count)
    {
        LlamaMetrics.KvCellsChanged(count - _tokens[sequence].Count);
        _tokens[sequence].RemoveRange(count, _tokens[sequence].Count - count);
        _heldPromptLength[sequence] = Math.Min(_heldPromptLength[sequence], count);
    }

    /// <summary>The sequence dropped <paramref name="count"/> tokens from <paramref name="start"/> on and moved the rest back (a context shift).</summary>
    public void Remove(int sequence, int start, int count)
    {
        _tokens[sequence].RemoveRange(start, count);
        LlamaMetrics.KvCellsChanged(-count);

        // The shifted tokens no longer begin with a whole prompt: the sequence matches only a prompt continuing all of them.
        _heldPromptLength[sequence] = Shifted;
    }

    /// <summary>The batch just decoded added <paramref name="tokens"/> to the sequence.</summary>
    public void Append(int sequence, ReadOnlySpan<int> tokens)
    {
        _tokens[sequence].AddRange(tokens);
        LlamaMetrics.KvCellsChanged(tokens.Length);
    }

    /// <summary>The context is gone: nothing is held any more.</summary>
    public void ReleaseAll()
    {
        for (int sequence = 0; sequence < _tokens.Length; sequence++)
        {
            Forget(sequence);
        }
    }

    /// <summary>How many tokens the sequence holds (its next position).</summary>
    public int Count(int sequence) => _tokens[sequence].Count;

    /// <summary>The sequence's tokens; read while no request runs in it.</summary>
    public IReadOnlyList<int> Tokens(int sequence) => _tokens[sequence];

    /// <summary>Whether <paramref name="sequence"/> is the better one to give away than <paramref name="other"/>: empty first, then the least recently used.</summary>
    private bool EvictsBefore(int sequence, int other) =>
        (_tokens[sequence].Count == 0) != (_tokens[other].Count == 0)
            ? _tokens[sequence].Count == 0
            : _heldSince[sequence] < _heldSince[other];

    private static int CommonPrefix(List<int> held, int[] prompt)
    {
        int limit = Math.Min(held.Count, prompt.Length - 1);
        int common = 0;
        while (common < limit && held[common] == prompt[common])
        {
            common++;
        }

        return common;
    }
}
