namespace LocalLlm.Benchmarks;

/// <summary>
/// One timed completion, SDK or raw. Both sides time the same spans:
/// prompt = from the start of the call until the first generated token is in hand (one decode of the whole prompt,
/// one sample, one detokenization), generation = from the first generated token in hand until the last one is
/// (GeneratedTokens - 1 single-token decodes, each followed by a sample and a detokenization).
/// </summary>
internal sealed record RunMeasurement
{
    public required int PromptTokens { get; init; }

    public required int GeneratedTokens { get; init; }

    public required bool StoppedAtEndOfGeneration { get; init; }

    public required double PromptMilliseconds { get; init; }

    public required double GenerationMilliseconds { get; init; }

    /// <summary>Managed bytes allocated by the whole process from the first generated token to the last.</summary>
    public required long GenerationAllocatedBytes { get; init; }

    /// <summary>The SDK's own LlamaUsage.PromptEvaluationTime (worker-side, decode only); null for raw.</summary>
    public double? ReportedPromptMilliseconds { get; init; }

    /// <summary>The SDK's own LlamaUsage.GenerationTime (worker-side, all samples and decodes); null for raw.</summary>
    public double? ReportedGenerationMilliseconds { get; init; }

    /// <summary>
    /// The median of the individual token-to-token intervals in the generation span: insensitive to a burst of load
    /// from elsewhere on the machine, which the mean (<see cref="MicrosecondsPerToken"/>) is not.
    /// </summary>
    public required double MedianStepMicroseconds { get; init; }

    /// <summary>The share of the machine's CPU other processes used during the run (0 to 1).</summary>
    public double OthersCpuShare { get; init; }

    /// <summary>How many earlier attempts at this repetition were thrown away because other processes were busy.</summary>
    public int DiscardedAttempts { get; init; }

    /// <summary>Gen-0 collections during the generation span.</summary>
    public required int Gen0Collections { get; init; }

    public double PromptTokensPerSecond => PromptTokens / (PromptMilliseconds / 1000);

    /// <summary>Steps timed in the generation span: every generated token after the first.</summary>
    public int GenerationSteps => GeneratedTokens - 1;

    public double GenerationTokensPerSecond => GenerationSteps / (GenerationMilliseconds / 1000);

    public double MicrosecondsPerToken => GenerationMilliseconds * 1000 / GenerationSteps;

    public double AllocatedBytesPerToken => (double)GenerationAllocatedBytes / GenerationSteps;

    /// <summary>The median interval between consecutive timestamps, in microseconds.</summary>
    public static double MedianStep(ReadOnlySpan<long> timestamps)
    {
        if (timestamps.Length < 2)
        {
            return double.NaN;
        }

        double[] steps = new double[timestamps.Length - 1];
        for (int i = 1; i < timestamps.Length; i++)
        {
            steps[i - 1] = (timestamps[i] - timestamps[i - 1]) * 1_000_000.0 / System.Diagnostics.Stopwatch.Frequency;
        }

        return Statistics.Median(steps);
    }
}
