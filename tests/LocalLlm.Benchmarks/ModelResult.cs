namespace LocalLlm.Benchmarks;

/// <summary>Everything measured on one model: every repetition of both sides, and their medians.</summary>
internal sealed record ModelResult
{
    public required string Name { get; init; }

    public required string File { get; init; }

    public required long FileBytes { get; init; }

    public required string FileType { get; init; }

    public required long ParameterCount { get; init; }

    public required double LoadSeconds { get; init; }

    public required IReadOnlyList<RunMeasurement> Sdk { get; init; }

    public required IReadOnlyList<RunMeasurement> Raw { get; init; }

    /// <summary>Whether every SDK run generated exactly the tokens the raw loop did (greedy, same prompt).</summary>
    public required bool SameTokens { get; init; }

    public Summary SdkMedian => Summary.Of(Sdk);

    public Summary RawMedian => Summary.Of(Raw);

    public double PromptRatio => SdkMedian.PromptTokensPerSecond / RawMedian.PromptTokensPerSecond;

    public double GenerationRatio => SdkMedian.GenerationTokensPerSecond / RawMedian.GenerationTokensPerSecond;

    /// <summary>SDK time per generated token minus raw time per generated token (medians).</summary>
    public double OverheadMicrosecondsPerToken => SdkMedian.MicrosecondsPerToken - RawMedian.MicrosecondsPerToken;

    /// <summary>
    /// The same overhead from each run's median token-to-token interval: what the wrapper adds to a typical token,
    /// unmoved by bursts of load from other processes (but blind to costs that come only every so many tokens).
    /// </summary>
    public double StepOverheadMicroseconds => SdkMedian.MedianStepMicroseconds - RawMedian.MedianStepMicroseconds;

    public bool AnyEndOfGeneration => Sdk.Concat(Raw).Any(r => r.StoppedAtEndOfGeneration);

    /// <summary>Medians over the repetitions, each figure taken on its own.</summary>
    internal sealed record Summary(
        double PromptTokensPerSecond,
        double GenerationTokensPerSecond,
        double MicrosecondsPerToken,
        double AllocatedBytesPerToken,
        double MedianStepMicroseconds,
        double? ReportedPromptTokensPerSecond,
        double? ReportedGenerationTokensPerSecond,
        double PromptTokensPerSecondMin,
        double PromptTokensPerSecondMax,
        double GenerationTokensPerSecondMin,
        double GenerationTokensPerSecondMax)
    {
        public static Summary Of(IReadOnlyList<RunMeasurement> runs) => new(
            Statistics.Median(runs.Select(r => r.PromptTokensPerSecond)),
            Statistics.Median(runs.Select(r => r.GenerationTokensPerSecond)),
            Statistics.Median(runs.Select(r => r.MicrosecondsPerToken)),
            Statistics.Median(runs.Select(r => r.AllocatedBytesPerToken)),
            Statistics.Median(runs.Select(r => r.MedianStepMicroseconds)),
            runs.All(r => r.ReportedPromptMilliseconds is not null)
                ? Statistics.Median(runs.Select(r => r.PromptTokens / (r.ReportedPromptMilliseconds!.Value / 1000)))
                : null,
            runs.All(r => r.ReportedGenerationMilliseconds is not null)
                ? Statistics.Median(runs.Select(r => r.GeneratedTokens / (r.ReportedGenerationMilliseconds!.Value / 1000)))
                : null,
            Statistics.Min(runs.Select(r => r.PromptTokensPerSecond)),
            Statistics.Max(runs.Select(r => r.PromptTokensPerSecond)),
            Statistics.Min(runs.Select(r => r.GenerationTokensPerSecond)),
            Statistics.Max(runs.Select(r => r.GenerationTokensPerSecond)));
    }
}
