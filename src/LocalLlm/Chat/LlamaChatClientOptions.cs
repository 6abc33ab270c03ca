namespace LocalLlm;

/// <summary>How a <see cref="LlamaChatClient"/> runs conversations.</summary>
public sealed class LlamaChatClientOptions
{
    /// <summary>Gets or sets the context each request runs in. Default: <see cref="LlamaContextOptions"/>'s defaults.</summary>
    public LlamaContextOptions Context { get; set; } = new();

    /// <summary>
    /// Gets or sets a built-in template name that overrides the model's own (see <see cref="LlamaChatTemplate.BuiltInNames"/>);
    /// a built-in family renders text only, without tools or reasoning. Default: null, the model's template.
    /// </summary>
    public string? TemplateName { get; set; }

    /// <summary>Gets or sets a Jinja chat template that overrides the model's own (e.g. a corrected one from the model card). Default: null.</summary>
    public string? TemplateText { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a model without a chat template is an error
    /// (<see cref="LlamaChatTemplateException"/>). Default: false: ChatML stands in, with one warning in the log, as in llama-server.
    /// </summary>
    public bool RequireModelTemplate { get; set; }

    /// <summary>
    /// Gets extra variables every request passes to the template (llama-server's <c>chat_template_kwargs</c>, e.g.
    /// <c>enable_thinking</c>); a request adds or overrides them with <c>chat_template_kwargs</c> in
    /// <c>ChatOptions.AdditionalProperties</c>.
    /// </summary>
    public IDictionary<string, object?> TemplateVariables { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets the most tokens a reply may spend reasoning before the template's end-of-thinking tag is forced.
    /// Default: null, no limit unless <c>ChatOptions.Reasoning</c> asks for low (512) or medium (2048) effort; a request
    /// sets its own with <c>reasoning_budget_tokens</c> in <c>ChatOptions.AdditionalProperties</c>.
    /// </summary>
    public int? ReasoningBudget { get; set; }

    /// <summary>Gets or sets what happens when a conversation outgrows the context. Default: <see cref="LlamaChatHistoryPolicy.DropOldest"/>.</summary>
    public LlamaChatHistoryPolicy HistoryPolicy { get; set; } = LlamaChatHistoryPolicy.DropOldest;

    /// <summary>Gets or sets the reply length used when a request sets no <c>MaxOutputTokens</c>. Default: 512.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 512;

    /// <summary>
    /// Gets or sets how many requests generate at once, each in its own sequence of
    /// <see cref="LlamaContextOptions.ContextSize"/> tokens, batched into one decode per step; more wait their turn.
    /// Default: 1, one request at a time. Either way a sequence keeps its conversation in the KV cache, and the next
    /// turn of that conversation is given the same sequence and evaluates only its new messages.
    /// </summary>
    public int ParallelSequences { get; set; } = 1;

    /// <summary>Gets or sets the model id reported in responses and metadata. Default: null, the model's file name.</summary>
    public string? ModelId { get; set; }

    /// <summary>
    /// Gets or sets how many requests may wait for a free sequence beyond the <see cref="ParallelSequences"/> that
    /// generate. Default: 64.
    /// </summary>
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>
    /// Gets or sets what a request does when <see cref="MaxQueuedRequests"/> are already waiting: wait for room, or fail
    /// at once with <see cref="LlamaQueueFullException"/> (what a server answering 429 wants). Default: <see cref="LlamaQueueFullBehavior.Wait"/>.
    /// </summary>
    public LlamaQueueFullBehavior QueueFullBehavior { get; set; } = LlamaQueueFullBehavior.Wait;

    internal void Validate()
    {
        Context.Validate();
        if (ParallelSequences is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(ParallelSequences), ParallelSequences, $"ParallelSequences must be between 1 and 256, but was {ParallelSequences}.");
        }

        if (MaxQueuedRequests is < 1 or > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedRequests), MaxQueuedRequests, $"MaxQueuedRequests must be between 1 and 1048576, but was {MaxQueuedRequests}.");
        }

        if (!Enum.IsDefined(QueueFullBehavior))
        {
            throw new ArgumentOutOfRangeException(nameof(QueueFullBehavior), QueueFullBehavior, $"QueueFullBehavior {QueueFullBehavior} is not a defined {nameof(LlamaQueueFullBehavior)}.");
        }

        if (ReasoningBudget is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ReasoningBudget), ReasoningBudget, $"ReasoningBudget must be at least 0 (or null for no limit), but was {ReasoningBudget}.");
        }

        if (TemplateName is not null && TemplateText is not null)
        {
            throw new ArgumentException("Set TemplateName or TemplateText, not both.", nameof(TemplateText));
        }
    }
}
