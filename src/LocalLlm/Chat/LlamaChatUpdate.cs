namespace LocalLlm;

/// <summary>A piece of an assistant's reply in a <see cref="LlamaChatSession"/>: answer text, reasoning, and at the end the tool calls.</summary>
public sealed class LlamaChatUpdate
{
    /// <summary>Gets the answer text this piece adds (never tool-call markup); empty when it adds none.</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>Gets the reasoning ("thinking") text this piece adds; empty when it adds none.</summary>
    public string Reasoning { get; init; } = string.Empty;

    /// <summary>Gets the tools the reply calls: set on the last update, empty otherwise.</summary>
    public IReadOnlyList<LlamaToolCall> ToolCalls { get; init; } = [];

    /// <summary>Gets why the reply ended, on the last update only.</summary>
    public LlamaFinishReason? FinishReason { get; init; }

    /// <summary>Gets the token counts and timings, on the last update only.</summary>
    public LlamaUsage? Usage { get; init; }
}
