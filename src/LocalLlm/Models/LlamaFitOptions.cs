namespace LocalLlm;

/// <summary>What <see cref="LlamaModel.PlanFit"/> may choose, and what it must leave free.</summary>
public sealed class LlamaFitOptions
{
    /// <summary>Gets or sets the layers to offload, or null to let the fit choose as many as the GPUs hold. Default: null.</summary>
    public int? GpuLayerCount { get; set; }

    /// <summary>Gets or sets each sequence's context, or null to let the fit choose the largest that fits (up to the trained length). Default: null.</summary>
    public int? ContextSize { get; set; }

    /// <summary>Gets or sets the smallest context per sequence the fit may choose; less fails the fit. Default: 4096 (llama-server's <c>--fit-ctx</c>), or the trained length when shorter.</summary>
    public int MinimumContextSize { get; set; } = 4096;

    /// <summary>Gets or sets the memory to leave free on every device, the host included. Default: 1 GiB (llama-server's <c>--fit-target</c>).</summary>
    public long MarginBytes { get; set; } = 1L << 30;

    /// <summary>Gets or sets how many sequences the context will hold (a scheduler's or chat client's <c>ParallelSequences</c>). Default: 1.</summary>
    public int Sequences { get; set; } = 1;

    /// <summary>Gets or sets the rest of the context's settings (batch sizes, cache types, flash attention); null for the defaults.</summary>
    public LlamaContextOptions? Context { get; set; }

    internal void Validate()
    {
        if (GpuLayerCount is < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(GpuLayerCount), GpuLayerCount, $"GpuLayerCount must be -1 (all), 0 or more, or null, but was {GpuLayerCount}.");
        }

        if (ContextSize is < 16 || MinimumContextSize is < 16 or > 1 << 24)
        {
            throw new ArgumentOutOfRangeException(ContextSize is < 16 ? nameof(ContextSize) : nameof(MinimumContextSize), $"Context sizes must be at least 16 tokens (and the minimum at most 16777216), but were {ContextSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"} and {MinimumContextSize}.");
        }

        if (MarginBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MarginBytes), MarginBytes, $"MarginBytes must be 0 or more, but was {MarginBytes}.");
        }

        if (Sequences is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Sequences), Sequences, $"Sequences must be between 1 and 256, but was {Sequences}.");
        }

        Context?.Validate();
    }
}
