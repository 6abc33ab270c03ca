using Microsoft.Extensions.AI;

namespace LocalLlm.Server;

/// <summary>A parsed <c>POST /v1/chat/completions</c> body: the conversation, its options, and how to answer.</summary>
internal sealed class ChatCompletionRequest
{
    public required List<ChatMessage> Messages { get; init; }

    public required ChatOptions Options { get; init; }

    public bool Stream { get; init; }

    public bool IncludeUsage { get; init; }

    /// <summary>Gets how many choices to generate (<c>n</c>), each as its own sequence, side by side.</summary>
    public int Choices { get; init; } = 1;

    public bool LogProbabilities { get; init; }
}
