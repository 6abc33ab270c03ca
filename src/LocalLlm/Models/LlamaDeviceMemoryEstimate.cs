namespace LocalLlm;

/// <summary>One device's share of a <see cref="LlamaMemoryEstimate"/>, in bytes.</summary>
/// <param name="Device">The device's name (<c>CUDA0</c>), or <c>host</c> for the CPU and system memory.</param>
/// <param name="ModelBytes">The weights placed there (for mapped weights on the host, the pages llama.cpp will touch).</param>
/// <param name="ContextBytes">The KV cache (and recurrent state) for the context size and sequences asked for.</param>
/// <param name="ComputeBytes">The compute buffers for the batch sizes asked for.</param>
/// <param name="FreeBytes">The memory free on the device now.</param>
/// <param name="TotalMemoryBytes">The device's whole memory.</param>
/// <param name="TokenizerBytes">llama.cpp's token tables (on the host only): the vocabulary and merges as its tokenizer holds them, outside ggml's buffers.</param>
public sealed record LlamaDeviceMemoryEstimate(string Device, long ModelBytes, long ContextBytes, long ComputeBytes, long FreeBytes, long TotalMemoryBytes, long TokenizerBytes = 0)
{
    /// <summary>Gets the bytes needed on this device.</summary>
    public long TotalBytes => ModelBytes + ContextBytes + ComputeBytes + TokenizerBytes;

    /// <summary>Gets a value indicating whether the need fits the free memory.</summary>
    public bool Fits => TotalBytes <= FreeBytes;
}
