namespace LocalLlm;

/// <summary>What the session, the scheduler and the embedding generator share about their contexts.</summary>
internal static class InferenceContexts
{
    /// <summary>The context size used when none is configured: the model's trained length, capped.</summary>
    public static int DefaultSize(LlamaModel model, int fallback = LlamaContextOptions.DefaultContextSizeLimit) =>
        model.FittedContextSize ?? DefaultSize(model.Metadata.TrainedContextLength, fallback);

    /// <summary>The context a model trained on <paramref name="trained"/> tokens gets when none is asked for.</summary>
    public static int DefaultSize(long trained, int fallback = LlamaContextOptions.DefaultContextSizeLimit) =>
        trained > 0 ? (int)Math.Min(trained, LlamaContextOptions.DefaultContextSizeLimit) : fallback;

    /// <summary>Collects a streamed completion.</summary>
    public static async Task<LlamaCompletion> CollectAsync(IAsyncEnumerable<LlamaGenerationUpdate> updates, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        var tokens = new List<int>();
        await foreach (LlamaGenerationUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            if (update.TokenId is { } token)
            {
                tokens.Add(token);
            }

            if (update.FinishReason is { } reason)
            {
                return new LlamaCompletion(text.ToString(), tokens, reason, update.Usage!);
            }
        }

        throw new InvalidOperationException("The completion ended without a final update.");
    }
}
