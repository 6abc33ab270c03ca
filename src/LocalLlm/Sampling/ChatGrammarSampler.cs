using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Creates the samplers a chat template's reply format needs beside the chain, as llama.cpp's common sampler does: the
/// reply-format grammar (lazy: it wakes at a trigger) and the reasoning budget.
/// </summary>
internal static class ChatGrammarSampler
{
    internal static SafeLlamaSamplerHandle Create(NativeVocabulary vocabulary, string grammar, ChatConstraints chat)
    {
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        SafeLlamaSamplerHandle sampler = chat.GrammarLazy
            ? SafeLlamaSamplerHandle.CreateLazyGrammar(vocabulary, grammar, chat.TriggerPatterns, chat.TriggerTokens)
            : SafeLlamaSamplerHandle.CreateGrammar(vocabulary, grammar, "root");
        if (sampler.IsInvalid)
        {
            sampler.Dispose();
            string reason = errors.Lines.Count > 0 ? string.Join("; ", errors.Lines) : "llama.cpp logged no reason";
            throw new LlamaException($"llama.cpp could not build the grammar of the chat template's reply format: {reason}.");
        }

        return sampler;
    }

    /// <summary>
    /// Whether a reasoning budget sampler is needed: the template has thinking tags, and a budget is set or a lazy
    /// grammar must not wake inside the reasoning (llama.cpp's rule).
    /// </summary>
    internal static bool NeedsReasoningBudget(ChatConstraints chat) =>
        chat.ThinkingStartTag.Length > 0 && chat.ThinkingEndTags.Count > 0 && (chat.GrammarLazy || chat.ReasoningBudget is not null);

    internal static SafeLlamaSamplerHandle CreateReasoningBudget(LlamaTokenizer tokenizer, ChatConstraints chat, int[] prefill)
    {
        int[] start = tokenizer.Tokenize(chat.ThinkingStartTag, addSpecial: false, parseSpecial: true);
        List<int[]> ends = [.. chat.ThinkingEndTags.Where(t => t.Length > 0).Select(t => tokenizer.Tokenize(t, addSpecial: false, parseSpecial: true))];
        // A prompt that already opened the block (a generation prompt ending in <think>) starts the count at once: matching
        // the tag's tokens inside the prompt's tokens fails where the tokenizer merges the tag with what follows it.
        bool opened = chat.GenerationPrompt.TrimEnd().EndsWith(chat.ThinkingStartTag.Trim(), StringComparison.Ordinal);
        SafeLlamaSamplerHandle budget;
        try
        {
            budget = NativeChatLayer.CreateReasoningBudget(tokenizer.Vocabulary, start, ends, ends[0], chat.ReasoningBudget ?? int.MaxValue, inReasoning: opened);
        }
        catch (NativeChatLayerException ex)
        {
            throw new LlamaException($"llama.cpp could not create the reasoning budget sampler: {ex.Message}");
        }

        if (!opened)
        {
            foreach (int token in prefill)
            {
                budget.Accept(token);
            }
        }

        return budget;
    }
}
