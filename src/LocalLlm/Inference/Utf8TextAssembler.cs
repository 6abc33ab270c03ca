using System.Runtime.CompilerServices;
using System.Text;

namespace LocalLlm;

/// <summary>
/// Turns the byte pieces of successive tokens into text, holding back the bytes of a character that is split
/// across tokens until it is complete, so no half character is ever emitted.
/// </summary>
internal sealed class Utf8TextAssembler
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Appends a token's bytes; returns the characters they complete (possibly none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<char> Append(ReadOnlySpan<byte> bytes)
    {
        int needed = _decoder.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        int written = _decoder.GetChars(bytes, _chars, flush: false);
        return _chars.AsSpan(0, written);
    }

    /// <summary>Ends the stream: bytes of an unfinished character become U+FFFD.</summary>
    public ReadOnlySpan<char> Flush()
    {
        int written = _decoder.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
        return _chars.AsSpan(0, written);
    }

    public void Reset() => _decoder.Reset();
}
