using System.Runtime.InteropServices;

namespace LocalLlm.Native;

// LocalLlm's C shim over llama.cpp's chat layer (build/native/localllm_chat.cpp): JSON in and out, a status code and an
// error string, every returned string freed with localllm_chat_string_free.
internal static unsafe partial class NativeMethods
{
    internal const string ChatLayerLibrary = "localllm-chat";

    /// <summary>The shim's ABI version this assembly binds (k_abi_version in localllm_chat.cpp).</summary>
    internal const int ChatLayerAbiVersion = 4;

    [LibraryImport(ChatLayerLibrary)]
    internal static partial int localllm_chat_abi_version();

    [LibraryImport(ChatLayerLibrary)]
    internal static partial void localllm_chat_string_free(byte* text);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial void localllm_chat_set_log_verbosity(int verbosity);

    [LibraryImport(ChatLayerLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int localllm_chat_templates_init(nint model, string? template_override, string? bos_token, string? eos_token, out nint templates, out byte* error);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial void localllm_chat_templates_free(nint templates);

    [LibraryImport(ChatLayerLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int localllm_memory_estimate(string model_path, string params_json, out byte* out_json, out byte* error);

    [LibraryImport(ChatLayerLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int localllm_fit_params(string model_path, string params_json, out byte* out_json, out byte* error);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial int localllm_chat_templates_describe(SafeChatTemplatesHandle templates, out byte* out_json, out byte* error);

    [LibraryImport(ChatLayerLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int localllm_chat_templates_apply(SafeChatTemplatesHandle templates, string inputs_json, out byte* out_json, out byte* error);

    [LibraryImport(ChatLayerLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int localllm_chat_parser_init(string params_json, out nint parser, out byte* error);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial void localllm_chat_parser_free(nint parser);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial int localllm_chat_parser_parse(SafeChatParserHandle parser, byte* text, nuint length, int is_partial, out byte* out_json, out byte* error);

    [LibraryImport(ChatLayerLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int localllm_chat_json_schema_to_grammar(string schema_json, out byte* out_grammar, out byte* error);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial nint localllm_chat_reasoning_budget_init(
        nint vocab, int* start_tokens, nuint start_length, int* end_tokens, nuint* end_lengths, nuint end_count,
        int* forced_tokens, nuint forced_length, int budget, int in_reasoning, out byte* error);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial int localllm_chat_sampler_accept(SafeLlamaSamplerHandle sampler, int token, out byte* error);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial int localllm_chat_reasoning_budget_state(SafeLlamaSamplerHandle sampler);

    [LibraryImport(ChatLayerLibrary)]
    internal static partial nuint localllm_chat_reasoning_budget_end_match(SafeLlamaSamplerHandle sampler, int* tokens, nuint capacity);
}
