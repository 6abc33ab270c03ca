using System.Runtime.InteropServices.Marshalling;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Creates the samplers a chat template's reply format needs beside the chain, as llama.cpp's common sampler does: the
/// reply-format grammar (lazy: it wakes at a trigger) and the reasoning budget.
/// </summary>
internal static class ChatGrammarSampler
{
    public static unsafe SafeLlamaSamplerHandle Create(NativeVocabulary vocabulary, string grammar, ChatConstraints chat)
    {
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        var sampler = new SafeLlamaSamplerHandle();
        if (!chat.GrammarLazy)
        {
            sampler.Attach(NativeMethods.llama_sampler_init_grammar(vocabulary.Pointer, grammar, "root"));
        }
        else
        {
            byte* grammarText = Utf8StringMarshaller.ConvertToUnmanaged(grammar);
            byte* root = Utf8StringMarshaller.ConvertToUnmanaged("root");
            nint[] patterns = new nint[chat.TriggerPatterns.Count];
            try
            {
                for (int i = 0; i < patterns.Length; i++)
                {
                    patterns[i] = (nint)Utf8StringMarshaller.ConvertToUnmanaged(chat.TriggerPatterns[i]);
                }

                int[] tokens = [.. chat.TriggerTokens];
                fixed (nint* patternPointers = patterns)
                fixed (int* tokenPointer = tokens)
                {
                    sampler.Attach(NativeMethods.llama_sampler_init_grammar_lazy_patterns(
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
        }

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
    public static bool NeedsReasoningBudget(ChatConstraints chat) =>
        chat.ThinkingStartTag.Length > 0 && chat.ThinkingEndTags.Count > 0 && (chat.GrammarLazy || chat.ReasoningBudget is not null);

    public static SafeLlamaSamplerHandle CreateReasoningBudget(LlamaTokenizer tokenizer, ChatConstraints chat, int[] prefill)
    {
        int[] start = tokenizer.Tokenize(chat.ThinkingStartTag, addSpecial: false, parseSpecial: true);
        List<int[]> ends = [.. chat.ThinkingEndTags.Where(t => t.Length > 0).Select(t => tokenizer.Tokenize(t, addSpecial: false, parseSpecial: true))];
        int[] message = chat.ReasoningBudgetMessage.Length > 0 ? tokenizer.Tokenize(chat.ReasoningBudgetMessage, addSpecial: false, parseSpecial: true) : [];
        int[] forced = [.. message, .. ends[0]];
        // A prompt that already opened the block (a generation prompt ending in <think>) starts the count at once: matching
        // the tag's tokens inside the prompt's tokens fails where the tokenizer merges the tag with what follows it.
        bool opened = chat.GenerationPrompt.TrimEnd().EndsWith(chat.ThinkingStartTag.Trim(), StringComparison.Ordinal);
        SafeLlamaSamplerHandle budget;
        try
        {
            budget = NativeChatLayer.CreateReasoningBudget(tokenizer.Vocabulary, start, ends, forced, chat.ReasoningBudget ?? int.MaxValue, inReasoning: opened);
        }
        catch (NativeChatLayerException ex)
        {
            throw new LlamaException($"llama.cpp could not create the reasoning budget sampler: {ex.Message}");
        }

        if (!opened)
        {
            foreach (int token in prefill)
            {
                NativeMethods.llama_sampler_accept(budget, token);
            }
        }

        return budget;
    }
}
