namespace LocalLlm;

/// <summary>One message of a conversation, as a chat template sees it.</summary>
/// <param name="Role">The speaker: <c>system</c>, <c>user</c>, <c>assistant</c> (or <c>tool</c>).</param>
/// <param name="Content">The message text.</param>
public readonly record struct LlamaChatMessage(string Role, string Content)
{
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
}
