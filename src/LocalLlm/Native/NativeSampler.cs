using System.Buffers;
using System.Runtime.CompilerServices;

namespace LocalLlm.Native;

/// <summary>
/// A request's sampler: the chain, and the grammar kept beside it as llama.cpp's common sampler keeps it.
/// </summary>
/// <remarks>
/// A grammar applied to every candidate costs a parse-state check per vocabulary token per step (hundreds of
/// milliseconds with a 128k vocabulary), so, as llama.cpp's <c>common_sampler_sample</c> does, the chain samples
/// first and the grammar checks only the chosen token; only when it rejects that token are the candidates filtered by
/// the grammar and the chain run again.
/// </remarks>
internal sealed unsafe class NativeSampler : IDisposable
{
    private readonly SafeLlamaSamplerHandle _chain;
    private readonly SafeLlamaSamplerHandle? _grammar;
    private readonly SafeLlamaSamplerHandle? _reasoningBudget;
    private readonly bool _grammarLazy;
    private readonly int _vocabularySize;
    private readonly TokenPieces? _pieces;
    private Utf8Progress _utf8;
    private bool _grammarApplied;
    private llama_token_data[]? _candidates; // rented: 12 bytes per vocabulary token, per request with a grammar

    /// <param name="chain">The sampler chain; owned from here on.</param>
    /// <param name="grammar">The grammar sampler, or null; owned from here on.</param>
    /// <param name="vocabularySize">The model's vocabulary size (the number of logits per row).</param>
    /// <param name="reasoningBudget">llama.cpp's reasoning budget sampler, or null; owned from here on.</param>
    /// <param name="grammarLazy">The grammar wakes at a trigger, and sleeps while the reasoning budget counts (as in llama.cpp).</param>
    /// <param name="pieces">Every token's bytes; required with a grammar.</param>
    public NativeSampler(SafeLlamaSamplerHandle chain, SafeLlamaSamplerHandle? grammar, int vocabularySize, SafeLlamaSamplerHandle? reasoningBudget = null, bool grammarLazy = false, TokenPieces? pieces = null)
    {
        if (grammar is not null && pieces is null)
        {
            throw new ArgumentNullException(nameof(pieces), "A grammar needs the tokens' bytes.");
        }

        _pieces = pieces;
        _chain = chain;
        _grammar = grammar;
        _vocabularySize = vocabularySize;
        _reasoningBudget = reasoningBudget;
        _grammarLazy = grammarLazy;
    }

    /// <summary>Gets the chain (for inspection).</summary>
    public SafeLlamaSamplerHandle Chain => _chain;

    /// <summary>Gets a value indicating whether a grammar constrains the output.</summary>
    public bool HasGrammar => _grammar is not null;

    /// <summary>
    /// Samples a token from a batch row of the context's last decode (-1 for the last row) and records it in the
    /// samplers' history (penalties, grammar state).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Sample(SafeLlamaContextHandle context, int row) =>
        _grammar is null && _reasoningBudget is null ? _chain.Sample(context, row) : SampleAndAccept(context.GetLogits(row, _vocabularySize));

    /// <summary>Samples from one logit per token (id = index) and records the token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int SampleAndAccept(ReadOnlySpan<float> logits)
    {
        int token = Select(logits, grammarFirst: false);
        bool grammarApplies = GrammarApplies();
        if (grammarApplies && !_grammarApplied)
        {
            // A grammar that slept through the reasoning starts between characters, whatever the reasoning ended on.
            _utf8 = Utf8Progress.Start;
        }

        _grammarApplied = grammarApplies;
        if (grammarApplies)
        {
            if (!GrammarAllows(token) || !ContinuesUtf8(token))
            {
                token = Select(logits, grammarFirst: true);

                // Accepting a token the grammar rejects makes llama.cpp throw or abort inside native code.
                if (!GrammarAllows(token) || !ContinuesUtf8(token))
                {
                    throw new LlamaException(
                        "No token the grammar permits can be sampled: every one of them was ruled out, by a logit bias of negative infinity (on the end-of-generation tokens once the grammar is complete, for example) or because the grammar admits only bytes that are not well-formed UTF-8 (a class such as [^\\x00-\\U0010FFFF] that no character matches).");
                }
            }
        }

        if (_reasoningBudget is not null)
        {
            NativeMethods.llama_sampler_accept(_reasoningBudget, token);

            // The end of the reasoning the grammar slept through may itself hold the grammar's trigger.
            if (_grammar is not null && !grammarApplies && NativeChatLayer.GetReasoningBudgetState(_reasoningBudget) == ReasoningBudgetState.Done)
            {
                foreach (int endToken in NativeChatLayer.GetReasoningBudgetEndMatch(_reasoningBudget))
                {
                    NativeChatLayer.Accept(_grammar, endToken);
                }
            }
        }

        if (grammarApplies)
        {
            // A lazy grammar lets every token through until its trigger, then takes the trigger's text at once.
            if (_grammarLazy)
            {
                NativeChatLayer.Accept(_grammar!, token);
            }
            else
            {
                NativeMethods.llama_sampler_accept(_grammar!, token);
            }
        }

        if (_pieces is not null)
        {
            // A lazy grammar's check covers the text before its trigger too (ill-formed bytes are no text there either);
            // bytes that are no UTF-8 where the grammar sleeps restart the count.
            _utf8 = _utf8.TryAdvance(_pieces[token], out Utf8Progress next) ? next : Utf8Progress.Start;
        }

        NativeMethods.llama_sampler_accept(_chain, token);
        return token;
    }

    public void Dispose()
    {
        _chain.Dispose();
        _grammar?.Dispose();
        _reasoningBudget?.Dispose();
        if (_candidates is not null)
        {
            ArrayPool<llama_token_data>.Shared.Return(_candidates);
            _candidates = null;
        }
    }

    private int Select(ReadOnlySpan<float> logits, bool grammarFirst)
    {
        _candidates ??= ArrayPool<llama_token_data>.Shared.Rent(logits.Length);
        for (int id = 0; id < logits.Length; id++)
        {
            _candidates[id] = new llama_token_data { id = id, logit = logits[id], p = 0f };
        }

        fixed (llama_token_data* data = _candidates)
        {
            var candidates = new llama_token_data_array { data = data, size = (nuint)logits.Length, selected = -1, sorted = 0 };
            if (_reasoningBudget is not null)
            {
                NativeMethods.llama_sampler_apply(_reasoningBudget, &candidates);
            }

            if (grammarFirst)
            {
                // The cheap byte check first: the grammar's costs a parse per remaining candidate.
                for (int id = 0; id < logits.Length; id++)
                {
                    if (!ContinuesUtf8(id))
                    {
                        data[id].logit = float.NegativeInfinity;
                    }
                }

                NativeMethods.llama_sampler_apply(_grammar!, &candidates);
            }

            NativeMethods.llama_sampler_apply(_chain, &candidates);
            if (candidates.selected < 0 || candidates.selected >= (long)candidates.size)
            {
                throw new LlamaException($"The sampler chain selected no token (selected index {candidates.selected} of {candidates.size}).");
            }

            return candidates.data[candidates.selected].id;
        }
    }

    // llama.cpp's grammar_should_apply: a lazy grammar sleeps while the reasoning budget is inside the reasoning block.
    private bool GrammarApplies()
    {
        if (_grammar is null)
        {
            return false;
        }

        if (_reasoningBudget is null || !_grammarLazy)
        {
            return true;
        }

        ReasoningBudgetState state = NativeChatLayer.GetReasoningBudgetState(_reasoningBudget);
        return state is ReasoningBudgetState.Idle or ReasoningBudgetState.Done;
    }

    // The end of generation has no bytes, but may not cut a character in two.
    private bool ContinuesUtf8(int token) =>
        _pieces!.EndsGeneration(token) ? _utf8.Remaining == 0 : _utf8.TryAdvance(_pieces[token], out _);

    private bool GrammarAllows(int token)
    {
        var single = new llama_token_data { id = token, logit = 1f, p = 0f };
        var candidates = new llama_token_data_array { data = &single, size = 1, selected = -1, sorted = 0 };
        NativeMethods.llama_sampler_apply(_grammar!, &candidates);
        return !float.IsNegativeInfinity(single.logit);
    }
}
