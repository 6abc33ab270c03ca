namespace LocalLlm;

/// <summary>The settings a model fits the machine with, and what they take.</summary>
/// <param name="Fits">Whether every device, the host included, keeps its margin free with these settings.</param>
/// <param name="GpuLayerCount">The layers to offload (-1: all).</param>
/// <param name="ContextSize">Each sequence's context, in tokens.</param>
/// <param name="TensorSplit">How the offloaded layers divide among the GPUs, one weight per device llama.cpp knows (all 0: llama.cpp's own split).</param>
/// <param name="Estimate">What the settings take on each device.</param>
/// <param name="Explanation">Why it does not fit (the need and what is free on the device that lacks it), or an empty string.</param>
public sealed record LlamaFitPlan(bool Fits, int GpuLayerCount, int ContextSize, IReadOnlyList<float> TensorSplit, LlamaMemoryEstimate Estimate, string Explanation)
{
    /// <summary>Applies the plan to model options (offload and split).</summary>
    /// <param name="options">The options to change.</param>
    public void ApplyTo(LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.GpuLayerCount = GpuLayerCount;

        // llama.cpp's fit weighs the local GPUs only; a split it left all 0 is its own (by free memory).
        if (TensorSplit.Any(share => share > 0) && options.RpcServers.Count == 0)
        {
            options.TensorSplit = [.. TensorSplit.Take(Native.OffloadDevices.LocalGpuCount())];
        }
    }

    /// <summary>Applies the plan to context options (the context size).</summary>
    /// <param name="options">The options to change.</param>
    public void ApplyTo(LlamaContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ContextSize = ContextSize;
    }
}
