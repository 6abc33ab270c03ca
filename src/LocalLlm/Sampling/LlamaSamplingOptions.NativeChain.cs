using System.Runtime.InteropServices.Marshalling;
using LocalLlm.Native;

namespace LocalLlm;

/// <content>Builds llama.cpp's sampler chain for these options.</content>
public sealed partial record LlamaSamplingOptions
{
    /// <summary>llama.h's <c>LLAMA_DEFAULT_SEED</c>: samplers given it pick a random seed.</summary>
    internal const uint RandomSeed = 0xFFFFFFFF;

    /// <summary>The <c>m</c> llama.cpp's common sampling passes to Mirostat 1.0 (as in the paper).</summary>
    internal const int MirostatM = 100;

    /// <summary>
    /// Creates the native sampler chain in llama.cpp's canonical order (see <see cref="LlamaSamplingOptions"/>),
    /// adding only the samplers these options enable.
    /// </summary>
    /// <param name="tokenizer">The tokenizer of the model the chain samples for; the chain keeps a pointer to its
    /// vocabulary (grammar), so the model must outlive the chain.</param>
    /// <returns>The chain; disposing it frees every sampler in it.</returns>
    /// <exception cref="ArgumentException">The grammar does not parse, or a logit bias names a token outside the vocabulary.</exception>
    /// <exception cref="LlamaException">llama.cpp could not create a sampler.</exception>
    internal SafeLlamaSamplerHandle CreateNativeChain(LlamaTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int vocabularySize = tokenizer.VocabularySize;
        foreach (int token in LogitBias.Keys)
        {
            if (token >= vocabularySize)
            {
                throw new ArgumentException(
                    $"LogitBias names token {token}, which is outside the model's vocabulary (0 to {vocabularySize - 1}).", nameof(tokenizer));
            }
        }

        NativeLibraryLoader.EnsureInitialized();
        SafeLlamaSamplerHandle chain = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
        if (chain.IsInvalid)
        {
            chain.Dispose();
            throw new LlamaException("llama.cpp could not create a sampler chain (llama_sampler_chain_init returned null).");
        }

        try
        {
            AddSamplers(chain, tokenizer.Vocab, vocabularySize);
            return chain;
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    private void AddSamplers(SafeLlamaSamplerHandle chain, nint vocab, int vocabularySize)
    {
        uint seed = Seed ?? RandomSeed;
        if (LogitBias.Count > 0)
        {
            Add(chain, CreateLogitBias(vocabularySize), "logit-bias");
        }

        if (Grammar is not null)
        {
            Add(chain, CreateGrammar(vocab), "grammar");
        }

        // As in llama.cpp's common_sampler_init, Mirostat replaces everything between grammar and the selector.
        if (!IsGreedy && Mirostat != LlamaMirostatVersion.None)
        {
            if (Temperature != 1f)
            {
                Add(chain, NativeMethods.llama_sampler_init_temp(Temperature), "temp");
            }

            nint mirostat = Mirostat == LlamaMirostatVersion.V1
                ? NativeMethods.llama_sampler_init_mirostat(vocabularySize, seed, MirostatTau, MirostatEta, MirostatM)
                : NativeMethods.llama_sampler_init_mirostat_v2(seed, MirostatTau, MirostatEta);
            Add(chain, mirostat, "mirostat");
            return;
        }

        if (PenaltyLastN != 0 && (RepetitionPenalty != 1f || FrequencyPenalty != 0f || PresencePenalty != 0f))
        {
            Add(chain, NativeMethods.llama_sampler_init_penalties(vocabularySize, PenaltyLastN, RepetitionPenalty, FrequencyPenalty, PresencePenalty), "penalties");
        }

        if (DryMultiplier != 0f && DryPenaltyLastN != 0)
        {
            Add(chain, CreateDry(vocab), "dry");
        }

        if (TopNSigma > 0f)
        {
            Add(chain, NativeMethods.llama_sampler_init_top_n_sigma(TopNSigma), "top-n-sigma");
        }

        if (TopK > 0)
        {
            Add(chain, NativeMethods.llama_sampler_init_top_k(TopK), "top-k");
        }

        nuint minKeep = (nuint)MinKeep;
        if (TypicalP < 1f)
        {
            Add(chain, NativeMethods.llama_sampler_init_typical(TypicalP, minKeep), "typical");
        }

        if (TopP < 1f)
        {
            Add(chain, NativeMethods.llama_sampler_init_top_p(TopP, minKeep), "top-p");
        }

        if (MinP > 0f)
        {
            Add(chain, NativeMethods.llama_sampler_init_min_p(MinP, minKeep), "min-p");
        }

        if (XtcProbability > 0f && XtcThreshold <= 0.5f)
        {
            Add(chain, NativeMethods.llama_sampler_init_xtc(XtcProbability, XtcThreshold, minKeep, seed), "xtc");
        }

        if (IsGreedy)
        {
            Add(chain, NativeMethods.llama_sampler_init_greedy(), "greedy");
            return;
        }

        if (DynamicTemperatureRange > 0f)
        {
            Add(chain, NativeMethods.llama_sampler_init_temp_ext(Temperature, DynamicTemperatureRange, DynamicTemperatureExponent), "temp-ext");
        }
        else if (Temperature != 1f)
        {
            Add(chain, NativeMethods.llama_sampler_init_temp(Temperature), "temp");
        }

        nint selector = AdaptivePTarget >= 0f
            ? NativeMethods.llama_sampler_init_adaptive_p(AdaptivePTarget, AdaptivePDecay, seed)
            : NativeMethods.llama_sampler_init_dist(seed);
        Add(chain, selector, AdaptivePTarget >= 0f ? "adaptive-p" : "dist");
    }

    private unsafe nint CreateLogitBias(int vocabularySize)
    {
        llama_logit_bias[] biases = [.. LogitBias.Select(entry => new llama_logit_bias { token = entry.Key, bias = entry.Value })];
        fixed (llama_logit_bias* pointer = biases)
        {
            return NativeMethods.llama_sampler_init_logit_bias(vocabularySize, biases.Length, pointer);
        }
    }

    private nint CreateGrammar(nint vocab)
    {
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        nint grammar = NativeMethods.llama_sampler_init_grammar(vocab, Grammar!, GrammarRoot);
        if (grammar == nint.Zero)
        {
            string reason = errors.Lines.Count > 0 ? string.Join("; ", errors.Lines) : "llama.cpp logged no reason";
            throw new ArgumentException(
                $"The GBNF grammar (root rule '{GrammarRoot}') is invalid: {reason}. " +
                "llama.cpp writes the position of a syntax error to standard error; see its grammars/README.md for the syntax.");
        }

        return grammar;
    }

    private unsafe nint CreateDry(nint vocab)
    {
        // llama.cpp copies the breakers; the UTF-8 copies only need to live for the call.
        nint[] breakers = new nint[DrySequenceBreakers.Count];
        try
        {
            for (int i = 0; i < breakers.Length; i++)
            {
                breakers[i] = (nint)Utf8StringMarshaller.ConvertToUnmanaged(DrySequenceBreakers[i]);
            }

            fixed (nint* pointers = breakers)
            {
                return NativeMethods.llama_sampler_init_dry(
                    vocab, DryMultiplier, DryBase, DryAllowedLength, DryPenaltyLastN, (byte**)pointers, (nuint)breakers.Length);
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

    private static void Add(SafeLlamaSamplerHandle chain, nint sampler, string name)
    {
        if (sampler == nint.Zero)
        {
            throw new LlamaException($"llama.cpp could not create the {name} sampler (its init function returned null).");
        }

        // From here the chain owns the sampler and frees it with itself.
        NativeMethods.llama_sampler_chain_add(chain, sampler);
    }
}
