using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Making room in a full sequence, as llama.cpp's examples do: keep the first tokens (a system prompt, or at least
/// the beginning-of-sequence token), drop half of the rest, and move what follows back. Shared by the session and the
/// scheduler.
/// </summary>
internal static class ContextShift
{
    /// <summary>The tokens a shift keeps at the start: the configured count, else the beginning-of-sequence token when the sequence starts with it.</summary>
    public static int KeepCount(int configured, IReadOnlyList<int> tokens, int? beginningOfSequence)
    {
        int keep = configured == 0 && tokens.Count > 0 && tokens[0] == beginningOfSequence ? 1 : configured;
        return Math.Min(keep, tokens.Count);
    }

    /// <summary>Shifts a sequence holding <paramref name="held"/> tokens; returns where the dropped run starts and its length.</summary>
    public static (int Keep, int Discard) Apply(SafeLlamaContextHandle context, int sequence, int held, int keep)
    {
        keep = Math.Min(keep, held - 2);
        int discard = (held - keep) / 2;
        context.RemoveTokens(sequence, keep, keep + discard);
        context.ShiftPositions(sequence, keep + discard, held, -discard);
        return (keep, discard);
    }
}
