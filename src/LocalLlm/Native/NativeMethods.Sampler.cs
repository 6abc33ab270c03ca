using System.Runtime.InteropServices;

namespace LocalLlm.Native;

// Sampler constructors return raw pointers: a sampler added to a chain is owned by the chain, so only the
// chain itself is wrapped in SafeLlamaSamplerHandle.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary)]
    internal static partial llama_sampler_chain_params llama_sampler_chain_default_params();

    [LibraryImport(LlamaLibrary)]
    internal static partial SafeLlamaSamplerHandle llama_sampler_chain_init(llama_sampler_chain_params @params);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_sampler_chain_add(SafeLlamaSamplerHandle chain, nint smpl);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_sampler_chain_n(SafeLlamaSamplerHandle chain);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_chain_get(SafeLlamaSamplerHandle chain, int i);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_name(nint smpl);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_sampler_free(nint smpl);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_sampler_accept(SafeLlamaSamplerHandle smpl, int token);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_sampler_apply(SafeLlamaSamplerHandle smpl, llama_token_data_array* cur_p);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_sampler_reset(SafeLlamaSamplerHandle smpl);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_sampler_get_seed(SafeLlamaSamplerHandle smpl);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_sampler_sample(SafeLlamaSamplerHandle smpl, SafeLlamaContextHandle ctx, int idx);

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_perf_sampler_data llama_perf_sampler(SafeLlamaSamplerHandle chain);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_greedy();

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_dist(uint seed);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_top_k(int k);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_top_p(float p, nuint min_keep);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_min_p(float p, nuint min_keep);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_typical(float p, nuint min_keep);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_temp(float t);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_temp_ext(float t, float delta, float exponent);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_xtc(float p, float t, nuint min_keep, uint seed);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_top_n_sigma(float n);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_mirostat(int n_vocab, uint seed, float tau, float eta, int m);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_mirostat_v2(uint seed, float tau, float eta);

    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint llama_sampler_init_grammar(nint vocab, string grammar_str, string grammar_root);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_grammar_lazy_patterns(
        nint vocab, byte* grammar_str, byte* grammar_root, byte** trigger_patterns, nuint num_trigger_patterns, int* trigger_tokens, nuint num_trigger_tokens);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_penalties(int n_vocab, int penalty_last_n, float penalty_repeat, float penalty_freq, float penalty_present);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_dry(
        nint vocab, float dry_multiplier, float dry_base, int dry_allowed_length, int dry_penalty_last_n, byte** seq_breakers, nuint num_breakers);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_adaptive_p(float target, float decay, uint seed);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_logit_bias(int n_vocab, int n_logit_bias, llama_logit_bias* logit_bias);

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_sampler_init_infill(nint vocab);
}
