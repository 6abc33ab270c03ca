using LocalLlm.Native;

namespace LocalLlm;

/// <summary>Interim sampling options (replaced by the sampler-chain work).</summary>
public sealed record LlamaSamplingOptions
{
    /// <summary>Gets llama.cpp's defaults.</summary>
    public static LlamaSamplingOptions Default { get; } = new();

    /// <summary>Gets greedy decoding.</summary>
    public static LlamaSamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Gets the temperature.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Gets the seed.</summary>
    public uint? Seed { get; init; }

    internal SafeLlamaSamplerHandle CreateNativeChain(LlamaTokenizer tokenizer)
    {
        SafeLlamaSamplerHandle chain = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
        if (Temperature <= 0)
        {
            NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_greedy());
            return chain;
        }

        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_k(40));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_p(0.95f, 1));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_min_p(0.05f, 1));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_temp(Temperature));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_dist(Seed ?? 0xFFFFFFFF));
        return chain;
    }
}
