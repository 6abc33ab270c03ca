namespace LocalLlm;

/// <summary>
/// The tokens each sequence of an <see cref="InferenceEngine"/> holds in the KV cache, exactly (appended as they are
/// decoded, cut by shifts and rollbacks), and the choice of sequence for a new request: the free one whose tokens
/// share the longest prefix with its prompt, as llama-server picks a slot by prompt similarity. Written only by the
/// engine's loop (or, for a session's state and reset, while no request is admitted); counts may be read from any thread.
/// </summary>
internal sealed class SequencePromptCache
{
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
            int score = reused >= Math.Min(_heldPromptLength[sequence], prompt.Length - 1) ? reused : 0;
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
        List<int> held = _tokens[sequence];
        lock (held)
        {
            held.Clear();
            held.AddRange(tokens);
        }

        MarkHeld(sequence, promptLength ?? tokens.Count);
    }

    /// <summary>A request has left the sequence, whose tokens stay: of them, the first <paramref name="promptLength"/> were its prompt.</summary>
    public void MarkHeld(int sequence, int promptLength)
    {
        _heldPromptLength[sequence] = Math.Min(promptLength, Count(sequence));
        _heldSince[sequence] = ++_clock;
    }

    /// <summary>The sequence holds nothing (it was cleared).</summary>
    public void Forget(int sequence) => Truncate(sequence, 0);

    /// <summary>The sequence keeps only its first <paramref name="count"/> tokens.</summary>
    public void Truncate(int sequence, int count)
    {
        List<int> held = _tokens[sequence];
        lock (held)
        {
            held.RemoveRange(count, held.Count - count);
        }

        _heldPromptLength[sequence] = Math.Min(_heldPromptLength[sequence], count);
    }

    /// <summary>The sequence dropped <paramref name="count"/> tokens from <paramref name="start"/> on and moved the rest back (a context shift).</summary>
    public void Remove(int sequence, int start, int count)
    {
        List<int> held = _tokens[sequence];
        lock (held)
        {
            held.RemoveRange(start, count);
        }

        // The shifted tokens no longer begin with a whole prompt: the sequence matches only a prompt continuing all of them.
        _heldPromptLength[sequence] = int.MaxValue;
    }

    /// <summary>The batch just decoded added <paramref name="tokens"/> to the sequence.</summary>
    public void Append(int sequence, ReadOnlySpan<int> tokens)
    {
        List<int> held = _tokens[sequence];
        lock (held)
        {
            held.AddRange(tokens);
        }
    }

    /// <summary>The batch just decoded added <paramref name="token"/> to the sequence.</summary>
    public void Append(int sequence, int token)
    {
        List<int> held = _tokens[sequence];
        lock (held)
        {
            held.Add(token);
        }
    }

    /// <summary>How many tokens the sequence holds (its next position).</summary>
    public int Count(int sequence)
    {
        List<int> held = _tokens[sequence];
        lock (held)
        {
            return held.Count;
        }
    }

    /// <summary>A copy of the sequence's tokens.</summary>
    public int[] Snapshot(int sequence)
    {
        List<int> held = _tokens[sequence];
        lock (held)
        {
            return [.. held];
        }
    }

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
