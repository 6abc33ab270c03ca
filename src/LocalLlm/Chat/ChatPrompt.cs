namespace LocalLlm;

/// <summary>Renders a conversation with a chat template and makes it fit the context, as the history policy says.</summary>
internal static class ChatPrompt
{
    /// <summary>
    /// Renders <paramref name="request"/> and tokenizes the prompt, leaving <paramref name="reserve"/> tokens for the
    /// reply. Under <see cref="LlamaChatHistoryPolicy.DropOldest"/> the oldest non-system messages are dropped until
    /// the prompt fits; <paramref name="dropped"/> says how many.
    /// </summary>
    public static (int[] Tokens, ChatTemplateRendering Rendering) Build(
        LlamaChatTemplate template,
        LlamaTokenizer tokenizer,
        ChatTemplateRequest request,
        int contextSize,
        int reserve,
        LlamaChatHistoryPolicy policy,
        out int dropped)
    {
        var kept = request.Messages.ToList();
        dropped = 0;
        while (true)
        {
            ChatTemplateRendering rendering = template.Render(dropped == 0 ? request : request with { Messages = kept });
            int[] tokens = tokenizer.Tokenize(rendering.Prompt, addSpecial: true, parseSpecial: true);
            if (tokens.Length + reserve <= contextSize)
            {
                return (tokens, rendering);
            }

            int oldest = kept.FindIndex(m => m.Role != "system");
            bool canDrop = policy == LlamaChatHistoryPolicy.DropOldest && oldest >= 0 && oldest < kept.Count - 1;
            if (!canDrop)
            {
                throw new LlamaContextOverflowException(tokens.Length + reserve, contextSize);
            }

            // Drop a whole exchange: the oldest user turn with the assistant's reply and any tool calls and results in it.
            int count = 1;
            if (kept[oldest].Role == "user")
            {
                while (oldest + count < kept.Count - 1 && kept[oldest + count].Role is "assistant" or "tool")
                {
                    count++;
                }
            }

            kept.RemoveRange(oldest, count);
            dropped += count;
        }
    }

    /// <summary>The tokens kept free for the reply: the requested maximum, capped at half the context.</summary>
    public static int Reserve(int? maxTokens, int contextSize) => Math.Clamp(maxTokens ?? contextSize / 4, 1, contextSize / 2);
}
