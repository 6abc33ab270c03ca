using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// A model's <c>llama_vocab</c>. It is owned by the model: keep the model's handle alive (see <see cref="HandleLease"/>)
/// for as long as you call into it. Token ids must be inside the vocabulary; llama.cpp does not check them all.
/// </summary>
internal readonly unsafe struct NativeVocabulary(nint pointer)
{
    /// <summary>Gets the raw <c>llama_vocab</c> pointer, for bindings that take one.</summary>
    public nint Pointer { get; } = pointer;

    public int TokenCount => NativeMethods.llama_vocab_n_tokens(Pointer);

    public LlamaVocabularyType Type => (LlamaVocabularyType)NativeMethods.llama_vocab_type(Pointer);

    // The special tokens are -1 when the model has none.
    public int BeginningOfSequence => NativeMethods.llama_vocab_bos(Pointer);

    public int EndOfSequence => NativeMethods.llama_vocab_eos(Pointer);

    public int EndOfTurn => NativeMethods.llama_vocab_eot(Pointer);

    public int NewLine => NativeMethods.llama_vocab_nl(Pointer);

    public bool AddsBeginningOfSequence => NativeMethods.llama_vocab_get_add_bos(Pointer);

    public bool AddsEndOfSequence => NativeMethods.llama_vocab_get_add_eos(Pointer);

    public int Separator => NativeMethods.llama_vocab_sep(Pointer);

    public bool AddsSeparator => NativeMethods.llama_vocab_get_add_sep(Pointer);

    /// <summary>
    /// Tokenizes UTF-8 text into <paramref name="tokens"/>; returns the count, or minus the count needed when
    /// <paramref name="tokens"/> is too small (<see cref="int.MinValue"/> when the count overflows).
    /// </summary>
    public int Tokenize(ReadOnlySpan<byte> utf8, Span<int> tokens, bool addSpecial, bool parseSpecial)
    {
        fixed (byte* text = utf8)
        fixed (int* output = tokens)
        {
            return NativeMethods.llama_tokenize(Pointer, text, utf8.Length, output, tokens.Length, addSpecial, parseSpecial);
        }
    }

    /// <summary>Writes the UTF-8 text of <paramref name="tokens"/>; returns its length, or minus the length needed when <paramref name="text"/> is too small.</summary>
    public int Detokenize(ReadOnlySpan<int> tokens, Span<byte> text, bool removeSpecial, bool renderSpecial)
    {
        fixed (int* input = tokens)
        fixed (byte* output = text)
        {
            return NativeMethods.llama_detokenize(Pointer, input, tokens.Length, output, text.Length, removeSpecial, renderSpecial);
        }
    }

    /// <summary>Writes the bytes a token stands for; returns their count, or minus the count needed when <paramref name="destination"/> is too small.</summary>
    public int TokenToPiece(int token, Span<byte> destination, bool renderSpecial)
    {
        fixed (byte* output = destination)
        {
            return NativeMethods.llama_token_to_piece(Pointer, token, output, destination.Length, 0, renderSpecial);
        }
    }

    /// <summary>Gets the token's entry as stored in the model (e.g. <c>Ġhello</c> for byte-level BPE).</summary>
    public string GetText(int token) => Marshal.PtrToStringUTF8(NativeMethods.llama_vocab_get_text(Pointer, token)) ?? string.Empty;

    public bool IsEndOfGeneration(int token) => NativeMethods.llama_vocab_is_eog(Pointer, token);

    public bool IsControl(int token) => NativeMethods.llama_vocab_is_control(Pointer, token);
}
