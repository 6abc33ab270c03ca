using System.Runtime.InteropServices.Marshalling;

namespace LocalLlm.Native;

// Appending llama.cpp's samplers to a chain. Each throws LlamaException when llama.cpp cannot create the sampler;
// once added, a sampler is owned by the chain and freed with it.
internal sealed partial class SafeLlamaSamplerHandle
{
    public unsafe void AddLogitBias(int vocabularySize, IEnumerable<KeyValuePair<int, float>> biases)
    {
        llama_logit_bias[] native = [.. biases.Select(entry => new llama_logit_bias { token = entry.Key, bias = entry.Value })];
        fixed (llama_logit_bias* pointer = native)
        {
            Add(NativeMethods.llama_sampler_init_logit_bias(vocabularySize, native.Length, pointer), "logit-bias");
        }
    }

    /// <summary>
    /// Creates a standalone GBNF grammar sampler (kept beside the chain, see <see cref="NativeSampler"/>); returns an
    /// invalid handle when the grammar does not parse (llama.cpp logs why).
    /// </summary>
    public static SafeLlamaSamplerHandle CreateGrammar(NativeVocabulary vocabulary, string grammar, string root)
    {
        var sampler = new SafeLlamaSamplerHandle();
        sampler.SetHandle(NativeMethods.llama_sampler_init_grammar(vocabulary.Pointer, grammar, root));
        return sampler;
    }

    /// <summary>
    /// Creates a standalone grammar sampler that stays inactive until a trigger appears (a pattern matched by the
    /// generated text, or a token); returns an invalid handle when the grammar does not parse (llama.cpp logs why).
    /// </summary>
    public static unsafe SafeLlamaSamplerHandle CreateLazyGrammar(NativeVocabulary vocabulary, string grammar, IReadOnlyList<string> triggerPatterns, IReadOnlyList<int> triggerTokens)
    {
        var sampler = new SafeLlamaSamplerHandle();
        byte* grammarText = Utf8StringMarshaller.ConvertToUnmanaged(grammar);
        byte* root = Utf8StringMarshaller.ConvertToUnmanaged("root");
        nint[] patterns = new nint[triggerPatterns.Count];
        try
        {
            for (int i = 0; i < patterns.Length; i++)
            {
                patterns[i] = (nint)Utf8StringMarshaller.ConvertToUnmanaged(triggerPatterns[i]);
            }

            int[] tokens = [.. triggerTokens];
            fixed (nint* patternPointers = patterns)
            fixed (int* tokenPointer = tokens)
            {
                sampler.SetHandle(NativeMethods.llama_sampler_init_grammar_lazy_patterns(
                    vocabulary.Pointer, grammarText, root, (byte**)patternPointers, (nuint)patterns.Length, tokenPointer, (nuint)tokens.Length));
            }
        }
        finally
        {
            foreach (nint pattern in patterns)
            {
                Utf8StringMarshaller.Free((byte*)pattern);
            }

            Utf8StringMarshaller.Free(grammarText);
            Utf8StringMarshaller.Free(root);
        }

        return sampler;
    }

    public void AddPenalties(int vocabularySize, int lastN, float repeat, float frequency, float presence) =>
        Add(NativeMethods.llama_sampler_init_penalties(vocabularySize, lastN, repeat, frequency, presence), "penalties");

    public unsafe void AddDry(NativeVocabulary vocabulary, float multiplier, float @base, int allowedLength, int penaltyLastN, IReadOnlyList<string> sequenceBreakers)
    {
        // llama.cpp copies the breakers; the UTF-8 copies only need to live for the call.
        nint[] breakers = new nint[sequenceBreakers.Count];
        try
        {
            for (int i = 0; i < breakers.Length; i++)
            {
                breakers[i] = (nint)Utf8StringMarshaller.ConvertToUnmanaged(sequenceBreakers[i]);
            }

            fixed (nint* pointers = breakers)
            {
                Add(
                    NativeMethods.llama_sampler_init_dry(vocabulary.Pointer, multiplier, @base, allowedLength, penaltyLastN, (byte**)pointers, (nuint)breakers.Length),
                    "dry");
            }
        }
        finally
        {
            foreach (nint breaker in breakers)
            {
                Utf8StringMarshaller.Free((byte*)breaker);
            }
        }
    }

    public void AddTopNSigma(float n) => Add(NativeMethods.llama_sampler_init_top_n_sigma(n), "top-n-sigma");

    public void AddTopK(int k) => Add(NativeMethods.llama_sampler_init_top_k(k), "top-k");

    public void AddTypical(float p, int minKeep) => Add(NativeMethods.llama_sampler_init_typical(p, (nuint)minKeep), "typical");

    public void AddTopP(float p, int minKeep) => Add(NativeMethods.llama_sampler_init_top_p(p, (nuint)minKeep), "top-p");

    public void AddMinP(float p, int minKeep) => Add(NativeMethods.llama_sampler_init_min_p(p, (nuint)minKeep), "min-p");

    public void AddXtc(float probability, float threshold, int minKeep, uint seed) =>
        Add(NativeMethods.llama_sampler_init_xtc(probability, threshold, (nuint)minKeep, seed), "xtc");

    public void AddTemperature(float temperature) => Add(NativeMethods.llama_sampler_init_temp(temperature), "temp");

    /// <summary>Adds dynamic temperature: <paramref name="temperature"/> ± <paramref name="range"/>, scaled by entropy.</summary>
    public void AddDynamicTemperature(float temperature, float range, float exponent) =>
        Add(NativeMethods.llama_sampler_init_temp_ext(temperature, range, exponent), "temp-ext");

    // Selectors: each ends the chain by choosing the token.
    public void AddGreedy() => Add(NativeMethods.llama_sampler_init_greedy(), "greedy");

    public void AddDistribution(uint seed) => Add(NativeMethods.llama_sampler_init_dist(seed), "dist");

    public void AddAdaptiveP(float target, float decay, uint seed) => Add(NativeMethods.llama_sampler_init_adaptive_p(target, decay, seed), "adaptive-p");

    public void AddMirostat(int vocabularySize, uint seed, float tau, float eta, int m) =>
        Add(NativeMethods.llama_sampler_init_mirostat(vocabularySize, seed, tau, eta, m), "mirostat");

    public void AddMirostatV2(uint seed, float tau, float eta) => Add(NativeMethods.llama_sampler_init_mirostat_v2(seed, tau, eta), "mirostat");

    private void Add(nint sampler, string name)
    {
        if (sampler == nint.Zero)
        {
            throw new LlamaException($"llama.cpp could not create the {name} sampler (its init function returned null).");
        }

        NativeMethods.llama_sampler_chain_add(this, sampler);
    }
}
