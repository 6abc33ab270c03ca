using System.Globalization;

namespace LocalLlm;

/// <summary>
/// Rejects GBNF that llama.cpp's grammar parser would turn into a crash or an unbounded allocation instead of an
/// error: a repetition <c>{m,n}</c> with m above n (llama.cpp subtracts unsigned and wraps), repetition bounds in the
/// millions (each repetition is a copy of the rule), and nesting deep enough to overflow the parser's stack.
/// </summary>
internal static class GbnfGuard
{
    /// <summary>The deepest parenthesis nesting accepted (llama.cpp's recursive parser overflowed at 50,000; 2,000 was fine).</summary>
    public const int MaxNesting = 1_000;

    /// <summary>The largest repetition bound accepted.</summary>
    public const int MaxRepetition = 100_000;

    /// <exception cref="ArgumentException">The grammar nests too deeply or repeats impossibly or too often; the message says where.</exception>
    public static void ThrowIfUnsafe(string grammar, string paramName)
    {
        int depth = 0;
        for (int i = 0; i < grammar.Length; i++)
        {
            switch (grammar[i])
            {
                case '#':
                    i = SkipTo(grammar, i, '\n', escapes: false);
                    break;
                case '"':
                    i = SkipTo(grammar, i, '"', escapes: true);
                    break;
                case '[':
                    i = SkipTo(grammar, i, ']', escapes: true);
                    break;
                case '(':
                    if (++depth > MaxNesting)
                    {
                        throw new ArgumentException($"The grammar nests parentheses more than {MaxNesting} deep (at character {i}); llama.cpp's parser would overflow its stack.", paramName);
                    }

                    break;
                case ')':
                    depth = Math.Max(0, depth - 1);
                    break;
                case '{':
                    i = CheckRepetition(grammar, i, paramName);
                    break;
            }
        }
    }

    private static int SkipTo(string grammar, int start, char end, bool escapes)
    {
        for (int i = start + 1; i < grammar.Length; i++)
        {
            if (escapes && grammar[i] == '\\')
            {
                i++;
            }
            else if (grammar[i] == end)
            {
                return i;
            }
        }

        return grammar.Length;
    }

    /// <summary>Reads <c>{m}</c>, <c>{m,}</c>, <c>{,n}</c> or <c>{m,n}</c> at <paramref name="start"/>; returns the index of its closing brace.</summary>
    private static int CheckRepetition(string grammar, int start, string paramName)
    {
        int close = grammar.IndexOf('}', start);
        if (close < 0)
        {
            return grammar.Length; // llama.cpp reports the syntax error itself
        }

        string body = grammar[(start + 1)..close];
        string[] bounds = body.Split(',');
        long? min = Bound(bounds[0]);
        long? max = bounds.Length > 1 ? Bound(bounds[1]) : min;
        if (min > MaxRepetition || max > MaxRepetition)
        {
            throw new ArgumentException($"The grammar repeats {{{body}}} (at character {start}); repetition bounds above {MaxRepetition} are refused, since llama.cpp copies the rule once per repetition.", paramName);
        }

        if (min > max)
        {
            throw new ArgumentException($"The grammar's repetition {{{body}}} (at character {start}) has a minimum above its maximum.", paramName);
        }

        return close;
    }

    private static long? Bound(string text) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value
        : text.Trim().Length > 0 && text.Trim().All(char.IsAsciiDigit) ? long.MaxValue // too long for a long: certainly too many
        : null;
}
