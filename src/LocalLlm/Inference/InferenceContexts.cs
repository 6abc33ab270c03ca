using LocalLlm.Native;

namespace LocalLlm;

/// <summary>Creating a llama.cpp context, with the abort flag wired in and llama.cpp's own reason when it refuses.</summary>
internal static class InferenceContexts
{
    /// <summary>Creates the context, or frees <paramref name="abort"/> and throws naming <paramref name="description"/> and llama.cpp's logged reason.</summary>
    public static unsafe SafeLlamaContextHandle Create(LlamaModel model, llama_context_params parameters, AbortFlag abort, string description)
    {
        parameters.abort_callback = AbortFlag.Callback;
        parameters.abort_callback_data = abort.CallbackData;
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        SafeLlamaContextHandle context = SafeLlamaContextHandle.Create(model.Handle, parameters);
        if (context.IsInvalid)
        {
            abort.Dispose();
            string reason = errors.Lines.Count > 0 ? string.Join(" ", errors.Lines.TakeLast(3)) : "llama.cpp gave no reason";
            throw new LlamaException($"Could not create {description} for '{model.Path}': {reason}");
        }

        return context;
    }

    /// <summary>The context size used when none is configured: the model's trained length, capped.</summary>
    public static int DefaultSize(LlamaModel model, int fallback = LlamaContextOptions.DefaultContextSizeLimit)
    {
        int trained = model.Metadata.TrainedContextLength;
        return trained > 0 ? Math.Min(trained, LlamaContextOptions.DefaultContextSizeLimit) : fallback;
    }

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
