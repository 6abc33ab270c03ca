namespace LocalLlm;

/// <summary>The kind of a <see cref="LlamaDevice"/>.</summary>
public enum LlamaDeviceType
{
    /// <summary>The CPU, using system memory.</summary>
    Cpu,

    /// <summary>A discrete GPU with its own memory.</summary>
    Gpu,

    /// <summary>An integrated GPU using system memory.</summary>
    IntegratedGpu,

    /// <summary>An accelerator used alongside the CPU (BLAS, AMX, …).</summary>
    Accelerator,

    /// <summary>A device on another machine, reached through an RPC worker (<see cref="LlamaModelOptions.RpcServers"/>).</summary>
    Remote,
}
