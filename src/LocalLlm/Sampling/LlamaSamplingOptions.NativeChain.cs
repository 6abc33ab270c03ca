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
    /// Creates the request's native sampler: the chain (see <see cref="CreateNativeChain"/>) and, when these options
    /// or the chat template's reply format have one, the grammar and the reasoning budget beside it.
    /// </summary>
    /// <param name="tokenizer">The tokenizer of the model the sampler samples for; the model must outlive the sampler.</param>
    /// <param name="fallbackSeed">The seed to use when these options leave it random (a session's or scheduler's own seed).</param>
    /// <param name="chat">What the chat template's reply format asks of sampling, or null.</param>
    /// <param name="historyLimit">The most recent tokens a penalty may scan (the sequence's context size).</param>
    /// <returns>The sampler; disposing it frees every native sampler in it.</returns>
    /// <exception cref="ArgumentException">The grammar does not parse, or a logit bias names a token outside the vocabulary.</exception>
    /// <exception cref="LlamaException">llama.cpp could not create a sampler.</exception>
    internal NativeSampler CreateNativeSampler(LlamaTokenizer tokenizer, uint? fallbackSeed = null, ChatConstraints? chat = null, int historyLimit = int.MaxValue)
    {
        if (Seed is null && fallbackSeed is { } seed)
        {
            return (this with { Seed = seed }).CreateNativeSampler(tokenizer, chat: chat, historyLimit: historyLimit);
        }

        if (chat?.Grammar is { } replyGrammar)
        {
            // Built by llama.cpp from the caller's JSON schema (a maxLength of a billion becomes {0,1000000000}).
            GbnfGuard.ThrowIfUnsafe(replyGrammar, "responseFormat");
        }

        if (chat?.Grammar is not null && Grammar is not null)
        {
            throw new ArgumentException("A grammar of your own cannot be combined with tools or a JSON response format, which bring the reply format's grammar.", nameof(chat));
        }

        SafeLlamaSamplerHandle chain = CreateNativeChain(tokenizer, historyLimit);
        SafeLlamaSamplerHandle? grammar = null;
        SafeLlamaSamplerHandle? reasoningBudget = null;
        try
        {
            int[] prefill = chat is null ? [] : PrefillTokens(tokenizer, chat.GenerationPrompt);
            if (chat?.Grammar is { } chatGrammar)
            {
                grammar = ChatGrammarSampler.Create(tokenizer.Vocabulary, chatGrammar, chat);

                // As in llama.cpp's common sampler, a strict reply-format grammar covers the assistant opening already in the prompt.
                if (!chat.GrammarLazy)
                {
                    foreach (int token in prefill)
                    {
                        NativeChatLayer.Accept(grammar, token);
                    }
                }
            }
            else if (Grammar is not null)
            {
                grammar = CreateGrammar(tokenizer.Vocabulary);
            }

            if (chat is not null && ChatGrammarSampler.NeedsReasoningBudget(chat))
            {
                reasoningBudget = ChatGrammarSampler.CreateReasoningBudget(tokenizer, chat, prefill);
            }

            return new NativeSampler(chain, grammar, tokenizer.VocabularySize, reasoningBudget, chat?.GrammarLazy == true, grammar is null ? null : tokenizer.Pieces);
        }
        catch
        {
            chain.Dispose();
            grammar?.Dispose();
            reasoningBudget?.Dispose();
            throw;
        }
    }

    // The generation prompt's tokens, less a leading space some tokenizers put before a first special token.
    private static int[] PrefillTokens(LlamaTokenizer tokenizer, string generationPrompt)
    {
        if (generationPrompt.Length == 0)
        {
            return [];
        }

        int[] tokens = tokenizer.Tokenize(generationPrompt, addSpecial: false, parseSpecial: true);
        if (tokens.Length > 0 && !char.IsWhiteSpace(generationPrompt[0]))
        {
            byte[] first = tokenizer.GetTokenBytes(tokens[0], renderSpecial: true);
            if (first.Length > 0 && char.IsWhiteSpace((char)first[0]))
            {
                return tokens[1..];
            }
        }

        return tokens;
    }

    /// <summary>
    /// Creates the native sampler chain in llama.cpp's canonical order (see <see cref="LlamaSamplingOptions"/>),
    /// adding only the samplers these options enable. The grammar is not in it: as in llama.cpp's common sampler it
    /// stays beside the chain (<see cref="CreateNativeSampler"/>).
    /// </summary>
    /// <param name="tokenizer">The tokenizer of the model the chain samples for; the chain keeps a pointer to its
    /// vocabulary (DRY), so the model must outlive the chain.</param>
    /// <param name="historyLimit">The most recent tokens a penalty may scan: a sequence never holds more than its
    /// context, and llama.cpp allocates the whole window up front.</param>
    /// <returns>The chain; disposing it frees every sampler in it.</returns>
    /// <exception cref="ArgumentException">A logit bias names a token outside the vocabulary.</exception>
    /// <exception cref="LlamaException">llama.cpp could not create a sampler.</exception>
    internal SafeLlamaSamplerHandle CreateNativeChain(LlamaTokenizer tokenizer, int historyLimit = int.MaxValue)
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
        SafeLlamaSamplerHandle chain = SafeLlamaSamplerHandle.CreateChain();
        if (chain.IsInvalid)
        {
            chain.Dispose();
            throw new LlamaException("llama.cpp could not create a sampler chain (llama_sampler_chain_init returned null).");
        }

        try
        {
            AddSamplers(chain, tokenizer.Vocabulary, vocabularySize, historyLimit);
            return chain;
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    private void AddSamplers(SafeLlamaSamplerHandle chain, NativeVocabulary vocabulary, int vocabularySize, int historyLimit)
    {
        uint seed = Seed ?? RandomSeed;
        if (LogitBias.Count > 0)
        {
            chain.AddLogitBias(vocabularySize, LogitBias);
        }

        // As in llama.cpp's common_sampler_init, Mirostat replaces everything between grammar and the selector.
        if (!IsGreedy && Mirostat != LlamaMirostatVersion.None)
        {
            if (Temperature != 1f)
            {
                chain.AddTemperature(Temperature);
            }

            if (Mirostat == LlamaMirostatVersion.V1)
            {
                chain.AddMirostat(vocabularySize, seed, MirostatTau, MirostatEta, MirostatM);
            }
            else
            {
                chain.AddMirostatV2(seed, MirostatTau, MirostatEta);
            }

            return;
        }

        if (PenaltyLastN != 0 && (RepetitionPenalty != 1f || FrequencyPenalty != 0f || PresencePenalty != 0f))
        {
            chain.AddPenalties(vocabularySize, Math.Min(PenaltyLastN, historyLimit), RepetitionPenalty, FrequencyPenalty, PresencePenalty);
        }

        if (DryMultiplier != 0f && DryPenaltyLastN != 0)
        {
            chain.AddDry(vocabulary, DryMultiplier, DryBase, DryAllowedLength, Math.Min(DryPenaltyLastN, historyLimit), DrySequenceBreakers);
        }

        if (TopNSigma > 0f)
        {
            chain.AddTopNSigma(TopNSigma);
        }

        if (TopK > 0)
        {
            chain.AddTopK(TopK);
        }

        if (TypicalP < 1f)
        {
            chain.AddTypical(TypicalP, MinKeep);
        }

        if (TopP < 1f)
        {
            chain.AddTopP(TopP, MinKeep);
        }

        if (MinP > 0f)
        {
            chain.AddMinP(MinP, MinKeep);
        }

        if (XtcProbability > 0f && XtcThreshold <= 0.5f)
        {
            chain.AddXtc(XtcProbability, XtcThreshold, MinKeep, seed);
        }

        if (IsGreedy)
        {
            chain.AddGreedy();
            return;
        }

        if (DynamicTemperatureRange > 0f)
        {
            chain.AddDynamicTemperature(Temperature, DynamicTemperatureRange, DynamicTemperatureExponent);
        }
        else if (Temperature != 1f)
        {
            chain.AddTemperature(Temperature);
        }

        if (AdaptivePTarget >= 0f)
        {
            chain.AddAdaptiveP(AdaptivePTarget, AdaptivePDecay, seed);
        }
        else
        {
            chain.AddDistribution(seed);
        }
    }

    private SafeLlamaSamplerHandle CreateGrammar(NativeVocabulary vocabulary)
    {
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        SafeLlamaSamplerHandle grammar = SafeLlamaSamplerHandle.CreateGrammar(vocabulary, Grammar!, GrammarRoot);
        if (grammar.IsInvalid)
        {
            grammar.Dispose();
            string reason = errors.Lines.Count > 0 ? string.Join("; ", errors.Lines) : "llama.cpp logged no reason";
            throw new ArgumentException(
                $"The GBNF grammar (root rule '{GrammarRoot}') is invalid: {reason}. " +
                "llama.cpp writes the position of a syntax error to standard error; see its grammars/README.md for the syntax.");
        }

        return grammar;
    }
}
