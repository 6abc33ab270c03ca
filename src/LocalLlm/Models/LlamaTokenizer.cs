using System.Buffers;
using System.Text;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>Converts between text and a model's token ids.</summary>
/// <remarks>Thread-safe: llama.cpp's tokenizer keeps no mutable state.</remarks>
public sealed class LlamaTokenizer
{
    private const int NoToken = -1;
    private readonly LlamaModel _model;
    private readonly NativeVocabulary _vocab;
    private TokenPieces? _pieces;

    internal LlamaTokenizer(LlamaModel model)
    {
        _model = model;
        _vocab = model.Handle.Vocabulary;
        VocabularySize = _vocab.TokenCount;
        VocabularyType = _vocab.Type;
        BeginningOfSequenceToken = OrNull(_vocab.BeginningOfSequence);
        EndOfSequenceToken = OrNull(_vocab.EndOfSequence);
        EndOfTurnToken = OrNull(_vocab.EndOfTurn);
        NewLineToken = OrNull(_vocab.NewLine);
        AddsBeginningOfSequence = _vocab.AddsBeginningOfSequence;
        AddsEndOfSequence = _vocab.AddsEndOfSequence;
        SeparatorToken = OrNull(_vocab.Separator);
        AddsSeparator = _vocab.AddsSeparator;
    }

    /// <summary>Gets the number of tokens in the vocabulary; valid ids are 0 to this value minus one.</summary>
    public int VocabularySize { get; }

    /// <summary>Gets the tokenizer algorithm.</summary>
    public LlamaVocabularyType VocabularyType { get; }

    /// <summary>Gets the beginning-of-sequence token, or null when the model has none.</summary>
    public int? BeginningOfSequenceToken { get; }

    /// <summary>Gets the end-of-sequence token, or null when the model has none.</summary>
    public int? EndOfSequenceToken { get; }

    /// <summary>Gets the end-of-turn token (e.g. Llama 3's <c>&lt;|eot_id|&gt;</c>), or null when the model has none.</summary>
    public int? EndOfTurnToken { get; }

    /// <summary>Gets the new-line token, or null when the model has none.</summary>
    public int? NewLineToken { get; }

    /// <summary>Gets a value indicating whether <see cref="Tokenize(string, bool, bool)"/> with <c>addSpecial</c> prepends the beginning-of-sequence token.</summary>
    public bool AddsBeginningOfSequence { get; }

    /// <summary>Gets a value indicating whether <see cref="Tokenize(string, bool, bool)"/> with <c>addSpecial</c> appends the end-of-sequence token.</summary>
    public bool AddsEndOfSequence { get; }

    /// <summary>Gets the separator token (BERT's <c>[SEP]</c>), or null when the model has none.</summary>
    public int? SeparatorToken { get; }

    /// <summary>Gets a value indicating whether the model puts its separator token between the two texts of a pair (a reranker's query and document).</summary>
    public bool AddsSeparator { get; }

    /// <summary>Converts text into token ids.</summary>
    /// <param name="text">The text to tokenize.</param>
    /// <param name="addSpecial">Adds the BOS/EOS tokens the model is configured to add.</param>
    /// <param name="parseSpecial">Recognises special tokens written as text (e.g. <c>&lt;|eot_id|&gt;</c>) instead of tokenizing them as plain characters.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The model has been disposed.</exception>
    /// <exception cref="NotSupportedException">The model has no vocabulary (<c>tokenizer.ggml.model</c> is <c>none</c>).</exception>
    public int[] Tokenize(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text.AsSpan(), addSpecial, parseSpecial);
    }

    /// <inheritdoc cref="Tokenize(string, bool, bool)"/>
    public int[] Tokenize(ReadOnlySpan<char> text, bool addSpecial = true, bool parseSpecial = false)
    {
        if (VocabularyType == LlamaVocabularyType.None)
        {
            // llama.cpp asserts (ending the process) when asked to tokenize without a vocabulary.
            throw new NotSupportedException("The model has no vocabulary (tokenizer.ggml.model is 'none'), so it cannot tokenize text.");
        }

        using HandleLease lease = _model.Lease();
        int byteCount = Encoding.UTF8.GetByteCount(text);
        byte[]? rentedBytes = null;
        Span<byte> utf8 = byteCount <= 1024 ? stackalloc byte[1024] : (rentedBytes = ArrayPool<byte>.Shared.Rent(byteCount));
        int[]? rentedTokens = null;
        try
        {
            int written = Encoding.UTF8.GetBytes(text, utf8);

            // Tokens never outnumber bytes by more than the specials added around them.
            Span<int> tokens = written + 8 <= 256 ? stackalloc int[256] : (rentedTokens = ArrayPool<int>.Shared.Rent(written + 8));
            int count = _vocab.Tokenize(utf8[..written], tokens, addSpecial, parseSpecial);
            if (count < 0)
            {
                if (count == int.MinValue)
                {
                    throw new ArgumentException("The text produces more tokens than llama.cpp can count (int32 overflow).", nameof(text));
                }

                int[] exact = new int[-count];
                _vocab.Tokenize(utf8[..written], exact, addSpecial, parseSpecial);
                return exact;
            }

            return tokens[..count].ToArray();
        }
        finally
        {
            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }

            if (rentedTokens is not null)
            {
                ArrayPool<int>.Shared.Return(rentedTokens);
            }
        }
    }

    /// <summary>Converts token ids back into text.</summary>
    /// <param name="tokens">The token ids.</param>
    /// <param name="removeSpecial">Drops the BOS/EOS tokens the model adds when tokenizing.</param>
    /// <param name="renderSpecial">Writes special tokens as their text (e.g. <c>&lt;|eot_id|&gt;</c>) instead of omitting them.</param>
    /// <returns>The text. Invalid UTF-8 (from a sequence that ends inside a character) becomes U+FFFD.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    /// <exception cref="ObjectDisposedException">The model has been disposed.</exception>
    public string Detokenize(ReadOnlySpan<int> tokens, bool removeSpecial = false, bool renderSpecial = false)
    {
        using HandleLease lease = _model.Lease();
        ThrowIfOutsideVocabulary(tokens, nameof(tokens));

        Span<byte> small = stackalloc byte[1024];
        int length = _vocab.Detokenize(tokens, small, removeSpecial, renderSpecial);
        if (length >= 0)
        {
            return Encoding.UTF8.GetString(small[..length]);
        }

        byte[] large = new byte[-length];
        length = _vocab.Detokenize(tokens, large, removeSpecial, renderSpecial);
        return Encoding.UTF8.GetString(large, 0, length);
    }

    /// <summary>Gets the bytes a token stands for (a token may hold part of a multi-byte UTF-8 character).</summary>
    /// <param name="token">The token id.</param>
    /// <param name="renderSpecial">Writes a special token's text instead of nothing.</param>
    /// <returns>The token's UTF-8 bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    /// <exception cref="ObjectDisposedException">The model has been disposed.</exception>
    public byte[] GetTokenBytes(int token, bool renderSpecial = false)
    {
        Span<byte> buffer = stackalloc byte[128];
        if (TryGetTokenBytes(token, buffer, out int written, renderSpecial))
        {
            return buffer[..written].ToArray();
        }

        byte[] large = new byte[written];
        TryGetTokenBytes(token, large, out written, renderSpecial);
        return large[..written];
    }

    /// <summary>Writes the bytes a token stands for into <paramref name="destination"/> without allocating.</summary>
    /// <param name="token">The token id.</param>
    /// <param name="destination">Where to write the bytes.</param>
    /// <param name="bytesWritten">The bytes written; when the method returns false, the size needed.</param>
    /// <param name="renderSpecial">Writes a special token's text instead of nothing.</param>
    /// <returns>True when the bytes fit; false when <paramref name="destination"/> is too small.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    /// <exception cref="ObjectDisposedException">The model has been disposed.</exception>
    public bool TryGetTokenBytes(int token, Span<byte> destination, out int bytesWritten, bool renderSpecial = false)
    {
        using HandleLease lease = _model.Lease();
        ThrowIfOutOfRange(token, nameof(token));
        int length = _vocab.TokenToPiece(token, destination, renderSpecial);
        bytesWritten = Math.Abs(length);
        return length >= 0;
    }

    /// <summary>Gets the token's entry in the vocabulary as stored in the model (e.g. <c>Ġhello</c> for byte-level BPE).</summary>
    /// <param name="token">The token id.</param>
    /// <returns>The vocabulary entry.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    public string GetTokenText(int token)
    {
        using HandleLease lease = _model.Lease();
        ThrowIfOutOfRange(token, nameof(token));
        return _vocab.GetText(token);
    }

    /// <summary>Returns whether generating <paramref name="token"/> ends generation (EOS, EOT and the model's other end tokens).</summary>
    /// <param name="token">The token id.</param>
    /// <returns>True for an end-of-generation token.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    public bool IsEndOfGeneration(int token)
    {
        using HandleLease lease = _model.Lease();
        ThrowIfOutOfRange(token, nameof(token));
        return _vocab.IsEndOfGeneration(token);
    }

    /// <summary>Returns whether <paramref name="token"/> is a control token, which renders as no text.</summary>
    /// <param name="token">The token id.</param>
    /// <returns>True for a control token.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    public bool IsControl(int token)
    {
        using HandleLease lease = _model.Lease();
        ThrowIfOutOfRange(token, nameof(token));
        return _vocab.IsControl(token);
    }

    internal NativeVocabulary Vocabulary => _vocab;

    /// <summary>Every token's bytes, read on first use (a grammar checks the candidates' bytes).</summary>
    internal TokenPieces Pieces
    {
        get
        {
            if (Volatile.Read(ref _pieces) is { } pieces)
            {
                return pieces;
            }

            using HandleLease lease = _model.Lease();
            Interlocked.CompareExchange(ref _pieces, new TokenPieces(_vocab), null);
            return _pieces;
        }
    }

    /// <summary>Throws naming the first id outside the vocabulary: llama.cpp would reject (or crash on) it.</summary>
    internal void ThrowIfOutsideVocabulary(ReadOnlySpan<int> tokens, string parameterName)
    {
        foreach (int token in tokens)
        {
            ThrowIfOutOfRange(token, parameterName);
        }
    }

    private void ThrowIfOutOfRange(int token, string parameterName)
    {
        if ((uint)token >= (uint)VocabularySize)
        {
            throw new ArgumentOutOfRangeException(parameterName, token, $"Token id {token} is outside the vocabulary (0 to {VocabularySize - 1}).");
        }
    }

    private static int? OrNull(int token) => token == NoToken ? null : token;
}
