using System.Runtime.CompilerServices;
namespace LocalLlm;

/// <summary>
/// The text side of one completion, shared by <see cref="LlamaSession"/> and <see cref="LlamaScheduler"/>: turns each
/// generated token into the text it completes (whole characters only, stop strings held back and never emitted).
/// </summary>
internal sealed class CompletionText
{
    private readonly Utf8TextAssembler _assembler = new();
    private readonly StopStringMatcher _stops;
    private readonly IReadOnlySet<int>? _renderedSpecialTokens;

    public CompletionText(LlamaGenerationOptions options)
    {
        _stops = new StopStringMatcher([.. options.StopStrings]);
        _renderedSpecialTokens = options.Chat?.RenderedSpecialTokens is { Count: > 0 } rendered ? rendered : null;
    }

    /// <summary>Gets a value indicating whether a stop string has ended the completion.</summary>
    public bool Stopped => _stops.Stopped;

    /// <summary>Returns the text <paramref name="token"/> completes, using <paramref name="piece"/> as scratch space.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string Append(int token, LlamaTokenizer tokenizer, Span<byte> piece)
    {
        // A reply format's markup tokens (e.g. <tool_call>) are special in some vocabularies: the parser needs their text.
        bool renderSpecial = _renderedSpecialTokens?.Contains(token) == true;
        if (!tokenizer.TryGetTokenBytes(token, piece, out int length, renderSpecial))
        {
            throw new LlamaException($"Token {token}'s text is longer than {piece.Length} bytes.");
        }

        return _stops.Append(_assembler.Append(piece[..length]));
    }

    /// <summary>Releases what was held back at the end of the completion.</summary>
    public string Flush() => _stops.Append(_assembler.Flush()) + _stops.Flush();
}
