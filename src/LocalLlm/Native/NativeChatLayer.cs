using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// Calls into LocalLlm's chat shim (llama.cpp's <c>common/chat.h</c>): template rendering, reply parsing, JSON schema
/// to grammar, and the reasoning budget sampler. JSON crosses as UTF-8 text; a failure comes back as
/// <see cref="NativeChatLayerException"/> carrying llama.cpp's own message, which callers turn into the exception
/// their API documents.
/// </summary>
internal static unsafe class NativeChatLayer
{
    // llama.cpp's template rendering reads the clock through std::localtime, which is not thread-safe: one render at a time.
    private static readonly Lock s_renderGate = new();

    /// <summary>Parses a template: the model's own when <paramref name="templateOverride"/> is null (ChatML when it has none).</summary>
    /// <param name="model">The model whose BOS/EOS tokens the template sees; null only with an override.</param>
    /// <param name="templateOverride">Jinja text or a built-in family name, or null.</param>
    /// <param name="bosToken">BOS text when no model is given.</param>
    /// <param name="eosToken">EOS text when no model is given.</param>
    public static SafeChatTemplatesHandle InitTemplates(SafeLlamaModelHandle? model, string? templateOverride, string? bosToken = null, string? eosToken = null)
    {
        NativeLibraryLoader.EnsureChatLayer();
        var handle = new SafeChatTemplatesHandle();
        nint templates;
        byte* error;
        int status;
        if (model is null)
        {
            status = NativeMethods.localllm_chat_templates_init(nint.Zero, templateOverride, bosToken, eosToken, out templates, out error);
        }
        else
        {
            using var lease = new HandleLease(model);
            status = NativeMethods.localllm_chat_templates_init(model.DangerousGetHandle(), templateOverride, bosToken, eosToken, out templates, out error);
        }

        ThrowOnFailure(status, error);
        handle.Attach(templates);
        return handle;
    }

    /// <summary>Returns the template's description: its source and llama.cpp's capability flags, as JSON.</summary>
    public static string Describe(SafeChatTemplatesHandle templates)
    {
        int status = NativeMethods.localllm_chat_templates_describe(templates, out byte* json, out byte* error);
        ThrowOnFailure(status, error);
        return TakeString(json);
    }

    /// <summary>Renders a conversation; see localllm_chat_templates_apply for the JSON on each side.</summary>
    public static string Apply(SafeChatTemplatesHandle templates, string inputsJson)
    {
        byte* json;
        byte* error;
        int status;
        lock (s_renderGate)
        {
            status = NativeMethods.localllm_chat_templates_apply(templates, inputsJson, out json, out error);
        }

        ThrowOnFailure(status, error);
        return TakeString(json);
    }

    /// <summary>
    /// Records a token in a grammar or budget sampler, turning the C++ exception a grammar throws when the token does
    /// not fit (a lazy grammar's trigger text, a replayed end of reasoning, a prefill) into <see cref="LlamaException"/>
    /// instead of ending the process.
    /// </summary>
    public static void Accept(SafeLlamaSamplerHandle sampler, int token)
    {
        int status = NativeMethods.localllm_chat_sampler_accept(sampler, token, out byte* error);
        if (status != 0)
        {
            string message = error is null ? "no message" : TakeString(error);
            throw new LlamaException($"The reply-format grammar could not take token {token}: {message}");
        }
    }

    /// <summary>Builds the parser for one rendered prompt.</summary>
    public static SafeChatParserHandle CreateParser(string parametersJson)
    {
        NativeLibraryLoader.EnsureChatLayer();
        int status = NativeMethods.localllm_chat_parser_init(parametersJson, out nint parser, out byte* error);
        ThrowOnFailure(status, error);
        var handle = new SafeChatParserHandle();
        handle.Attach(parser);
        return handle;
    }

    /// <summary>Parses the UTF-8 text generated so far into an OpenAI assistant message (JSON).</summary>
    public static string Parse(SafeChatParserHandle parser, ReadOnlySpan<byte> utf8Text, bool isPartial)
    {
        fixed (byte* text = utf8Text)
        {
            int status = NativeMethods.localllm_chat_parser_parse(parser, text, (nuint)utf8Text.Length, isPartial ? 1 : 0, out byte* json, out byte* error);
            ThrowOnFailure(status, error);
            return TakeString(json);
        }
    }

    /// <summary>Sizes a model's and a context's buffers per device without allocating (see localllm_memory_estimate).</summary>
    public static string EstimateMemory(string modelPath, string parametersJson)
    {
        NativeLibraryLoader.EnsureChatLayer();
        int status = NativeMethods.localllm_memory_estimate(modelPath, parametersJson, out byte* json, out byte* error);
        ThrowOnFailure(status, error);
        return TakeString(json);
    }

    /// <summary>Runs llama-server's fit of layers, split and context to free GPU memory (see localllm_fit_params).</summary>
    public static string FitParameters(string modelPath, string parametersJson)
    {
        NativeLibraryLoader.EnsureChatLayer();
        int status = NativeMethods.localllm_fit_params(modelPath, parametersJson, out byte* json, out byte* error);
        ThrowOnFailure(status, error);
        return TakeString(json);
    }

    /// <summary>Converts a JSON schema to GBNF as llama-server does for <c>response_format</c>.</summary>
    public static string JsonSchemaToGrammar(string schemaJson)
    {
        NativeLibraryLoader.EnsureChatLayer();
        int status = NativeMethods.localllm_chat_json_schema_to_grammar(schemaJson, out byte* grammar, out byte* error);
        ThrowOnFailure(status, error);
        return TakeString(grammar);
    }

    /// <summary>Creates llama.cpp's reasoning budget sampler (kept beside the chain, see <see cref="NativeSampler"/>).</summary>
    public static SafeLlamaSamplerHandle CreateReasoningBudget(
        NativeVocabulary vocabulary, int[] start, IReadOnlyList<int[]> ends, int[] forced, int budget, bool inReasoning)
    {
        NativeLibraryLoader.EnsureChatLayer();
        int[] endTokens = [.. ends.SelectMany(e => e)];
        nuint[] endLengths = [.. ends.Select(e => (nuint)e.Length)];
        var sampler = new SafeLlamaSamplerHandle();
        fixed (int* startPointer = start)
        fixed (int* endPointer = endTokens)
        fixed (nuint* lengthPointer = endLengths)
        fixed (int* forcedPointer = forced)
        {
            nint created = NativeMethods.localllm_chat_reasoning_budget_init(
                vocabulary.Pointer, startPointer, (nuint)start.Length, endPointer, lengthPointer, (nuint)endLengths.Length,
                forcedPointer, (nuint)forced.Length, budget, inReasoning ? 1 : 0, out byte* error);
            ThrowOnFailure(created == nint.Zero ? 1 : 0, error);
            sampler.Attach(created);
        }

        return sampler;
    }

    /// <summary>The reasoning budget sampler's state (llama.cpp's <c>common_reasoning_budget_state</c>).</summary>
    public static ReasoningBudgetState GetReasoningBudgetState(SafeLlamaSamplerHandle sampler) =>
        (ReasoningBudgetState)NativeMethods.localllm_chat_reasoning_budget_state(sampler);

    /// <summary>The end sequence that closed the reasoning block, or empty.</summary>
    public static int[] GetReasoningBudgetEndMatch(SafeLlamaSamplerHandle sampler)
    {
        Span<int> buffer = stackalloc int[64];
        fixed (int* pointer = buffer)
        {
            int length = (int)NativeMethods.localllm_chat_reasoning_budget_end_match(sampler, pointer, (nuint)buffer.Length);
            if (length <= buffer.Length)
            {
                return buffer[..length].ToArray();
            }

            int[] large = new int[length];
            fixed (int* largePointer = large)
            {
                NativeMethods.localllm_chat_reasoning_budget_end_match(sampler, largePointer, (nuint)large.Length);
            }

            return large;
        }
    }

    private static void ThrowOnFailure(int status, byte* error)
    {
        if (status == 0)
        {
            return;
        }

        string message = error is null ? "llama.cpp's chat layer failed without a message" : TakeString(error);
        throw new NativeChatLayerException(message);
    }

    private static string TakeString(byte* text)
    {
        if (text is null)
        {
            throw new NativeChatLayerException("llama.cpp's chat layer returned no text (out of memory)");
        }

        try
        {
            return Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;
        }
        finally
        {
            NativeMethods.localllm_chat_string_free(text);
        }
    }
}

/// <summary>llama.cpp's <c>common_reasoning_budget_state</c>.</summary>
internal enum ReasoningBudgetState
{
    Idle = 0,
    Counting = 1,
    Forcing = 2,
    WaitingUtf8 = 3,
    Done = 4,
}

/// <summary>A call into the chat shim failed; the message is llama.cpp's own.</summary>
internal sealed class NativeChatLayerException(string message) : Exception(message);
