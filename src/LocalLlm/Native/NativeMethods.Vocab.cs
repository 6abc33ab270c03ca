using System.Runtime.InteropServices;

namespace LocalLlm.Native;

// A llama_vocab is owned by its model: these take the raw pointer from llama_model_get_vocab, and callers
// keep the model handle alive (LlamaTokenizer holds the model's SafeHandle) for as long as they use it.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary)]
    internal static partial llama_vocab_type llama_vocab_type(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_n_tokens(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_vocab_get_text(nint vocab, int token);

    [LibraryImport(LlamaLibrary)]
    internal static partial float llama_vocab_get_score(nint vocab, int token);

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_token_attr llama_vocab_get_attr(nint vocab, int token);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_is_eog(nint vocab, int token);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_is_control(nint vocab, int token);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_bos(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_eos(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_eot(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_sep(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_nl(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_pad(nint vocab);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_get_add_bos(nint vocab);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_get_add_eos(nint vocab);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_get_add_sep(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_fim_pre(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_fim_suf(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_vocab_fim_mid(nint vocab);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_tokenize(
        nint vocab,
        byte* text,
        int text_len,
        int* tokens,
        int n_tokens_max,
        [MarshalAs(UnmanagedType.U1)] bool add_special,
        [MarshalAs(UnmanagedType.U1)] bool parse_special);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_token_to_piece(
        nint vocab,
        int token,
        byte* buf,
        int length,
        int lstrip,
        [MarshalAs(UnmanagedType.U1)] bool special);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_detokenize(
        nint vocab,
        int* tokens,
        int n_tokens,
        byte* text,
        int text_len_max,
        [MarshalAs(UnmanagedType.U1)] bool remove_special,
        [MarshalAs(UnmanagedType.U1)] bool unparse_special);
}
