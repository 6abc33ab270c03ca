namespace LocalLlm.Native;

/// <summary>Every token's bytes, read once from the vocabulary, for checks that look at many tokens per step.</summary>
internal sealed class TokenPieces
{
    private readonly byte[] _bytes;
    private readonly int[] _starts; // token i's bytes are _bytes[_starts[i].._starts[i + 1]]
    private readonly bool[] _endsGeneration;

    /// <summary>Reads every token's piece (special tokens as no bytes, as they are generated).</summary>
    public TokenPieces(NativeVocabulary vocabulary)
    {
        int count = vocabulary.TokenCount;
        _starts = new int[count + 1];
        _endsGeneration = new bool[count];
        var bytes = new List<byte>(count * 8);
        Span<byte> buffer = stackalloc byte[256];
        for (int token = 0; token < count; token++)
        {
            _starts[token] = bytes.Count;
            _endsGeneration[token] = vocabulary.IsEndOfGeneration(token);
            int length = vocabulary.TokenToPiece(token, buffer, renderSpecial: false);
            if (length < 0)
            {
                byte[] large = new byte[-length];
                length = vocabulary.TokenToPiece(token, large, renderSpecial: false);
                bytes.AddRange(large.AsSpan(0, Math.Max(length, 0)));
            }
            else
            {
                bytes.AddRange(buffer[..length]);
            }
        }

        _starts[count] = bytes.Count;
        _bytes = [.. bytes];
    }

    /// <summary>Returns whether <paramref name="token"/> ends generation.</summary>
    public bool EndsGeneration(int token) => _endsGeneration[token];

    /// <summary>Gets the bytes of <paramref name="token"/>.</summary>
    public ReadOnlySpan<byte> this[int token] => _bytes.AsSpan(_starts[token], _starts[token + 1] - _starts[token]);
}
