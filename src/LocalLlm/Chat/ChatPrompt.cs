namespace LocalLlm;

/// <summary>Formats a conversation with a chat template and makes it fit the context, as the history policy says.</summary>
internal static class ChatPrompt
{
    /// <summary>
    /// Returns the prompt tokens for <paramref name="messages"/>, leaving <paramref name="reserve"/> tokens for the
    /// reply. Under <see cref="LlamaChatHistoryPolicy.DropOldest"/> the oldest non-system messages are dropped until
    /// the prompt fits; <paramref name="dropped"/> says how many.
    /// </summary>
    public static int[] Build(
        LlamaChatTemplate template,
        LlamaTokenizer tokenizer,
        IReadOnlyList<LlamaChatMessage> messages,
        int contextSize,
        int reserve,
        LlamaChatHistoryPolicy policy,
        out int dropped)
    {
        var kept = messages.ToList();
        dropped = 0;
        while (true)
        {
            int[] tokens = tokenizer.Tokenize(template.Apply(kept), addSpecial: true, parseSpecial: true);
            if (tokens.Length + reserve <= contextSize)
            {
                return tokens;
            }

            int oldest = kept.FindIndex(m => m.Role != "system");
            bool canDrop = policy == LlamaChatHistoryPolicy.DropOldest && oldest >= 0 && oldest < kept.Count - 1;
            if (!canDrop)
            {
                throw new LlamaContextOverflowException(tokens.Length + reserve, contextSize);
            }

            // Drop a whole exchange when the oldest message is a user turn answered by the assistant.
            int count = oldest + 1 < kept.Count - 1 && kept[oldest].Role == "user" && kept[oldest + 1].Role == "assistant" ? 2 : 1;
            kept.RemoveRange(oldest, count);
            dropped += count;
        }
    }

    /// <summary>The tokens kept free for the reply: the requested maximum, capped at half the context.</summary>
    public static int Reserve(int? maxTokens, int contextSize) => Math.Clamp(maxTokens ?? contextSize / 4, 1, contextSize / 2);
}
