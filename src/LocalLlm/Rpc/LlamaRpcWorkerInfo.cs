namespace LocalLlm;

/// <summary>What an RPC worker reported when probed: its protocol version and its devices with their memory.</summary>
/// <param name="Endpoint">The worker's <c>host:port</c>.</param>
/// <param name="ProtocolVersion">The version of ggml's RPC protocol it speaks (<c>major.minor.patch</c>).</param>
/// <param name="Devices">Its devices, in the worker's order, named <c>host:port#index</c>, of type <see cref="LlamaDeviceType.Remote"/>.</param>
public sealed record LlamaRpcWorkerInfo(string Endpoint, string ProtocolVersion, IReadOnlyList<LlamaDevice> Devices);
