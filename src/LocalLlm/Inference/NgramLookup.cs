namespace LocalLlm;

/// <summary>
/// Prompt-lookup drafting: finds the latest earlier occurrence of the history's last n tokens (n from the configured
/// size down to 1) and proposes the tokens that followed it.
/// </summary>
internal static class NgramLookup
{
    /// <summary>Writes a draft of at most <paramref name="draft"/>'s length continuing <paramref name="history"/>; returns its length (0: none).</summary>
    public static int Draft(ReadOnlySpan<int> history, int ngramSize, Span<int> draft)
    {
        for (int size = Math.Min(ngramSize, history.Length - 1); size >= 1; size--)
        {
            ReadOnlySpan<int> key = history[^size..];

            // The latest earlier occurrence (the key's own place excluded) with a whole draft's continuation; failing
            // that, the one with the longest (in a run of one repeated token the latest match is followed by one token).
            int best = -1;
            int bestLength = 0;
            for (int start = history.Length - size - 1; start >= 0 && bestLength < draft.Length; start--)
            {
                if (history.Slice(start, size).SequenceEqual(key))
                {
                    int length = Math.Min(draft.Length, history.Length - start - size);
                    if (length > bestLength)
                    {
                        best = start + size;
                        bestLength = length;
                    }
                }
            }

            if (bestLength > 0)
            {
                history.Slice(best, bestLength).CopyTo(draft);
                return bestLength;
            }
        }

        return 0;
    }
}
