using System.Runtime.CompilerServices;
using System.Text;

namespace LocalLlm;

/// <summary>
/// Finds stop strings in generated text across token boundaries. Text that could still turn out to be the
/// start of a stop string is held back; the stop string itself is never emitted.
/// </summary>
internal sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly StringBuilder _pending = new();

    public StopStringMatcher(IReadOnlyList<string> stops)
    {
        _stops = stops.Where(s => s.Length > 0).ToArray();
    }

    /// <summary>Gets a value indicating whether a stop string has been seen.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Gets the stop string that ended generation, if any.</summary>
    public string? MatchedStop { get; private set; }

    /// <summary>Adds text; returns what can be emitted now (the text before any stop string, minus a held-back tail).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string Append(ReadOnlySpan<char> text)
    {
        if (Stopped)
        {
            return string.Empty;
        }

        if (_stops.Length == 0)
        {
            return text.Length == 0 ? string.Empty : new string(text);
        }

        _pending.Append(text);
        string pending = _pending.ToString();
        int earliest = -1;
        foreach (string stop in _stops)
        {
            int at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest))
            {
                earliest = at;
                MatchedStop = stop;
            }
        }

        if (earliest >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return pending[..earliest];
        }

        int hold = LongestSuffixThatStartsAStop(pending);
        _pending.Clear().Append(pending, pending.Length - hold, hold);
        return pending[..^hold];
    }

    /// <summary>Releases the held-back text at the end of generation.</summary>
    public string Flush()
    {
        string rest = Stopped ? string.Empty : _pending.ToString();
        _pending.Clear();
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        int longest = 0;
        foreach (string stop in _stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}
