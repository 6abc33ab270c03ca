namespace LocalLlm.Benchmarks;

/// <summary>One goal from the issue, checked against one model's medians.</summary>
internal sealed record Target(string Model, string Name, double Value, string Comparison, double Threshold, string Unit)
{
    public const double MinimumRatio = 0.97;
    public const double MaximumOverheadMicroseconds = 20;
    public const double MaximumBytesPerToken = 300;

    public bool Passed => Comparison == ">=" ? Value >= Threshold : Value < Threshold;

    /// <summary>Ratios on the larger models, overhead on tiny, allocation everywhere.</summary>
    public static IEnumerable<Target> For(ModelResult result)
    {
        if (result.Name != "tiny")
        {
            yield return new(result.Name, "prompt processing SDK/raw", result.PromptRatio, ">=", MinimumRatio, "");
            yield return new(result.Name, "generation SDK/raw", result.GenerationRatio, ">=", MinimumRatio, "");
        }
        else
        {
            yield return new(result.Name, "managed overhead per generated token", result.OverheadMicrosecondsPerToken, "<", MaximumOverheadMicroseconds, "µs");
        }

        yield return new(result.Name, "managed bytes allocated per generated token", result.SdkMedian.AllocatedBytesPerToken, "<", MaximumBytesPerToken, "B");
    }
}
