namespace LocalLlm;

/// <summary>What one completion cost.</summary>
public sealed record LlamaUsage
{
    /// <summary>Gets the number of tokens in the prompt.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Gets how many prompt tokens were already in the KV cache and were not evaluated again.</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>Gets how many prompt tokens were evaluated (<see cref="PromptTokens"/> minus <see cref="CachedPromptTokens"/>).</summary>
    public int EvaluatedPromptTokens => PromptTokens - CachedPromptTokens;

    /// <summary>Gets the number of tokens generated.</summary>
    public int GeneratedTokens { get; init; }

    /// <summary>Gets the time spent evaluating the prompt.</summary>
    public TimeSpan PromptEvaluationTime { get; init; }

    /// <summary>Gets the time spent generating, from the first generated token to the last.</summary>
    public TimeSpan GenerationTime { get; init; }

    /// <summary>Gets the time from the request to its first generated token (including any wait for a free sequence), when known.</summary>
    public TimeSpan? TimeToFirstToken { get; init; }

    /// <summary>Gets the tokens speculative decoding proposed (<see cref="LlamaGenerationOptions.Speculation"/>); 0 without it.</summary>
    public int DraftTokens { get; init; }

    /// <summary>Gets the proposed tokens the model kept: each saved a decode.</summary>
    public int AcceptedDraftTokens { get; init; }

    /// <summary>Gets the prompt-evaluation speed in tokens per second (0 when nothing was evaluated).</summary>
    public double PromptTokensPerSecond => PromptEvaluationTime > TimeSpan.Zero ? EvaluatedPromptTokens / PromptEvaluationTime.TotalSeconds : 0;

    /// <summary>Gets the generation speed in tokens per second (0 when nothing was generated).</summary>
    public double GenerationTokensPerSecond => GenerationTime > TimeSpan.Zero ? GeneratedTokens / GenerationTime.TotalSeconds : 0;
}
