namespace LocalLlm;

/// <summary>One message of a conversation, as a chat template sees it.</summary>
/// <param name="Role">The speaker: <c>system</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
/// <param name="Content">The message text (for an assistant message, the answer without its reasoning).</param>
public readonly record struct LlamaChatMessage(string Role, string Content)
{
    /// <summary>Gets the assistant's reasoning ("thinking") before its answer, or null. Templates that render past reasoning show it.</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>Gets the tools an assistant message calls, or null.</summary>
    public IReadOnlyList<LlamaToolCall>? ToolCalls { get; init; }

    /// <summary>Gets the id of the call a <c>tool</c> message answers, or null.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>Gets the name of the tool a <c>tool</c> message answers for, or null.</summary>
    public string? ToolName { get; init; }

    /// <summary>Creates a system message.</summary>
    /// <param name="content">The instructions.</param>
    /// <returns>The message.</returns>
    public static LlamaChatMessage System(string content) => new("system", content);

    /// <summary>Creates a user message.</summary>
    /// <param name="content">What the user said.</param>
    /// <returns>The message.</returns>
    public static LlamaChatMessage User(string content) => new("user", content);

    /// <summary>Creates an assistant message.</summary>
    /// <param name="content">What the model said.</param>
    /// <returns>The message.</returns>
    public static LlamaChatMessage Assistant(string content) => new("assistant", content);

    /// <summary>Creates a tool message carrying the result of a call.</summary>
    /// <param name="toolCallId">The id of the call it answers (<see cref="LlamaToolCall.Id"/>).</param>
    /// <param name="content">The result, usually JSON.</param>
    /// <param name="toolName">The name of the tool that ran; some templates show it.</param>
    /// <returns>The message.</returns>
    public static LlamaChatMessage Tool(string toolCallId, string content, string? toolName = null) =>
        new("tool", content) { ToolCallId = toolCallId, ToolName = toolName };
}
