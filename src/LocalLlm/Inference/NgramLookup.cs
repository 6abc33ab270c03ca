namespace LocalLlm;

/// <summary>
/// Prompt-lookup drafting: finds the latest earlier occurrence of the history's last n tokens and proposes the tokens
/// that followed it. Shorter matches are not tried: a single token recurs everywhere in a long context, and a draft
/// from it is rarely kept while its decode costs as much as any.
/// </summary>
internal static class NgramLookup
{
    /// <summary>Writes a draft of at most <paramref name="draft"/>'s length continuing <paramref name="history"/>; returns its length (0: none).</summary>
    public static int Draft(ReadOnlySpan<int> history, int ngramSize, Span<int> draft)
    {
        if (history.Length <= ngramSize || draft.IsEmpty)
        {
            return 0;
        }

        ReadOnlySpan<int> key = history[^ngramSize..];

        // The latest earlier occurrence (the key's own place excluded) with a whole draft's continuation; failing that,
        // the one with the longest (in a run of one repeated token the latest match is followed by a single token).
        int best = -1;
        int bestLength = 0;
        for (int start = history.Length - ngramSize - 1; start >= 0 && bestLength < draft.Length; start--)
        {
            if (history.Slice(start, ngramSize).SequenceEqual(key))
            {
                int length = Math.Min(draft.Length, history.Length - start - ngramSize);
                if (length > bestLength)
                {
                    best = start + ngramSize;
                    bestLength = length;
                }
            }
        }

        if (bestLength == 0)
        {
            return 0;
        }

        history.Slice(best, bestLength).CopyTo(draft);
        return bestLength;
    }
}
