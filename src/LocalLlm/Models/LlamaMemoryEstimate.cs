namespace LocalLlm;

/// <summary>What a model and a context would take in memory, per device, measured by llama.cpp without allocating.</summary>
/// <param name="Devices">Each device the model would use, the host (CPU and system memory) last.</param>
/// <param name="LayerCount">The model's layer count.</param>
/// <param name="TrainedContextLength">The context length the model was trained with.</param>
public sealed record LlamaMemoryEstimate(IReadOnlyList<LlamaDeviceMemoryEstimate> Devices, int LayerCount, int TrainedContextLength)
{
    /// <summary>Gets the bytes needed on every device together.</summary>
    public long TotalBytes => Devices.Sum(d => d.TotalBytes);
}
