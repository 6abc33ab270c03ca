namespace LocalLlm;

/// <summary>A compute device registered by ggml.</summary>
/// <param name="Name">The device name, e.g. <c>CPU</c> or <c>CUDA0</c>.</param>
/// <param name="Description">The device description, e.g. the processor or GPU model.</param>
/// <param name="Backend">The ggml backend that provides it, e.g. <c>CPU</c> or <c>CUDA</c>.</param>
/// <param name="Type">The kind of device.</param>
/// <param name="FreeMemoryBytes">Free memory reported when the runtime loaded.</param>
/// <param name="TotalMemoryBytes">Total memory of the device.</param>
public sealed record LlamaDevice(
    string Name,
    string Description,
    string Backend,
    LlamaDeviceType Type,
    long FreeMemoryBytes,
    long TotalMemoryBytes);
