namespace LocalLlm;

/// <summary>How a <see cref="LlamaChatClient"/> runs conversations.</summary>
public sealed class LlamaChatClientOptions
{
    /// <summary>Gets or sets the context each request runs in. Default: <see cref="LlamaContextOptions"/>'s defaults.</summary>
    public LlamaContextOptions Context { get; set; } = new();

    /// <summary>Gets or sets a built-in template name that overrides the model's own (see <see cref="LlamaChatTemplate.BuiltInNames"/>). Default: null, the model's template.</summary>
    public string? TemplateName { get; set; }

    /// <summary>Gets or sets what happens when a conversation outgrows the context. Default: <see cref="LlamaChatHistoryPolicy.DropOldest"/>.</summary>
    public LlamaChatHistoryPolicy HistoryPolicy { get; set; } = LlamaChatHistoryPolicy.DropOldest;

    /// <summary>Gets or sets the reply length used when a request sets no <c>MaxOutputTokens</c>. Default: 512.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 512;

    /// <summary>
    /// Gets or sets how many requests generate at once. Default: 1, one conversation at a time with KV-cache reuse
    /// across turns. Above 1 a <see cref="LlamaScheduler"/> batches concurrent requests into one decode per step (each
    /// request then evaluates its whole prompt, in its own sequence of <see cref="LlamaContextOptions.ContextSize"/> tokens).
    /// </summary>
    public int ParallelSequences { get; set; } = 1;

    /// <summary>Gets or sets the model id reported in responses. Default: null, the model's file name.</summary>
    public string? ModelId { get; set; }
}
