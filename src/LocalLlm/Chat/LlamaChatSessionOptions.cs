namespace LocalLlm;

/// <summary>How a <see cref="LlamaChatSession"/> formats and keeps its conversation.</summary>
public sealed class LlamaChatSessionOptions
{
    /// <summary>Gets or sets the context the conversation runs in. Default: <see cref="LlamaContextOptions"/>'s defaults.</summary>
    public LlamaContextOptions Context { get; set; } = new();

    /// <summary>Gets or sets the chat template. Default: null, the model's own (<see cref="LlamaChatTemplate.FromModel"/>).</summary>
    public LlamaChatTemplate? Template { get; set; }

    /// <summary>Gets or sets the system message that opens the conversation. Default: none.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Gets or sets what happens when the conversation outgrows the context. Default: <see cref="LlamaChatHistoryPolicy.DropOldest"/>.</summary>
    public LlamaChatHistoryPolicy HistoryPolicy { get; set; } = LlamaChatHistoryPolicy.DropOldest;

    /// <summary>Gets the tools the model may call; a reply that calls them ends with <see cref="LlamaChatUpdate.ToolCalls"/>. Default: none.</summary>
    public IList<LlamaChatTool> Tools { get; } = [];

    /// <summary>Gets or sets whether the model may, must or must not call one of <see cref="Tools"/>. Default: <see cref="LlamaToolChoice.Auto"/>.</summary>
    public LlamaToolChoice ToolChoice { get; set; } = LlamaToolChoice.Auto;

    /// <summary>Gets or sets whether one reply may call several tools; null for what the template supports. Default: null.</summary>
    public bool? AllowMultipleToolCalls { get; set; }

    /// <summary>Gets or sets a value indicating whether the template's thinking is on (llama-server's <c>enable_thinking</c>). Default: true.</summary>
    public bool EnableThinking { get; set; } = true;

    /// <summary>Gets or sets the most tokens a reply may spend reasoning; null for no limit. Default: null.</summary>
    public int? ReasoningBudget { get; set; }
}
