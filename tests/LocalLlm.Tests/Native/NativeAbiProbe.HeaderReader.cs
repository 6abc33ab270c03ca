using System.Text;
using System.Text.RegularExpressions;

namespace LocalLlm.Tests.Native;

// A small reader for the C declarations in llama.cpp's headers: which fields and enum members C declares.
internal sealed partial class NativeAbiProbe
{
    private static (string Header, string Body)? FindBody(List<(string FileName, string Code)> headers, string openingPattern)
    {
        var opening = new Regex(openingPattern, RegexOptions.CultureInvariant);
        foreach ((string fileName, string code) in headers)
        {
            Match match = opening.Match(code);
            if (match.Success)
            {
                int start = match.Index + match.Length;
                return (fileName, code[start..MatchingBrace(code, start)]);
            }
        }

        return null;
    }

    /// <summary>The index of the <c>}</c> closing the block whose body starts at <paramref name="start"/>.</summary>
    private static int MatchingBrace(string code, int start)
    {
        int depth = 1;
        for (int i = start; i < code.Length; i++)
        {
            depth += code[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return i;
            }
        }

        throw new FormatException("Unbalanced braces in a header.");
    }

    /// <summary>Field names of a struct body, in order; members of anonymous unions/structs are flattened (C11).</summary>
    private static List<string> ParseFieldNames(string body)
    {
        var names = new List<string>();
        foreach (string declaration in SplitTopLevel(body, ';'))
        {
            string text = declaration.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            int open = text.IndexOf('{', StringComparison.Ordinal);
            if (open >= 0)
            {
                int close = MatchingBrace(text, open + 1);
                string declarators = text[(close + 1)..].Trim();
                if (declarators.Length == 0)
                {
                    names.AddRange(ParseFieldNames(text[(open + 1)..close]));
                    continue;
                }

                text = declarators;
            }

            names.AddRange(SplitTopLevel(text, ',').Select(DeclaratorName));
        }

        return names;
    }

    private static string DeclaratorName(string declarator)
    {
        string text = ArraySuffix().Replace(BitField().Replace(declarator, string.Empty), string.Empty).Trim();
        Match functionPointer = FunctionPointerName().Match(text);
        if (functionPointer.Success)
        {
            return functionPointer.Groups[1].Value;
        }

        Match last = TrailingIdentifier().Match(text);
        return last.Success ? last.Groups[1].Value : throw new FormatException($"Cannot find the field name in '{declarator}'.");
    }

    private static List<string> ParseEnumMemberNames(string body) =>
        SplitTopLevel(body, ',')
            .Select(m => m.Split('=')[0].Trim())
            .Where(m => m.Length > 0)
            .ToList();

    /// <summary>Splits on <paramref name="separator"/> outside (), [] and {}.</summary>
    private static List<string> SplitTopLevel(string text, char separator)
    {
        var parts = new List<string>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (ch is '(' or '[' or '{')
            {
                depth++;
            }
            else if (ch is ')' or ']' or '}')
            {
                depth--;
            }
            else if (ch == separator && depth == 0)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }

    /// <summary>Removes comments and preprocessor lines, keeping string and character literals intact.</summary>
    private static string StripCommentsAndDirectives(string code)
    {
        var result = new StringBuilder(code.Length);
        int i = 0;
        bool lineStart = true;
        while (i < code.Length)
        {
            char ch = code[i];
            if (lineStart && ch == '#')
            {
                // A directive runs to the end of the line, including backslash continuations.
                while (i < code.Length && code[i] != '\n')
                {
                    i += code[i] == '\\' && i + 1 < code.Length ? 2 : 1;
                }

                continue;
            }

            if (ch == '/' && i + 1 < code.Length && code[i + 1] == '/')
            {
                while (i < code.Length && code[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (ch == '/' && i + 1 < code.Length && code[i + 1] == '*')
            {
                int end = code.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? code.Length : end + 2;
                result.Append(' ');
                continue;
            }

            if (ch is '"' or '\'')
            {
                int end = i + 1;
                while (end < code.Length && code[end] != ch && code[end] != '\n')
                {
                    end += code[end] == '\\' ? 2 : 1;
                }

                end = Math.Min(end + 1, code.Length);
                result.Append(code, i, end - i);
                i = end;
                lineStart = false;
                continue;
            }

            result.Append(ch);
            if (ch == '\n')
            {
                lineStart = true;
            }
            else if (!char.IsWhiteSpace(ch))
            {
                lineStart = false;
            }

            i++;
        }

        return result.ToString();
    }

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex ArraySuffix();

    [GeneratedRegex(@":\s*\w+\s*$")]
    private static partial Regex BitField();

    [GeneratedRegex(@"\(\s*\*\s*(\w+)\s*\)")]
    private static partial Regex FunctionPointerName();

    [GeneratedRegex(@"(\w+)\s*$")]
    private static partial Regex TrailingIdentifier();
}
