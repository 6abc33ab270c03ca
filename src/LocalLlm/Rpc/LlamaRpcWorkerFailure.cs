namespace LocalLlm;

/// <summary>Why an RPC worker could not be used.</summary>
public enum LlamaRpcWorkerFailure
{
    /// <summary>The endpoint is not <c>host:port</c> with a port from 1 to 65535.</summary>
    InvalidEndpoint,

    /// <summary>The host name did not resolve, or no route leads to it, or it did not accept a connection in time.</summary>
    Unreachable,

    /// <summary>The host refused the connection: no worker listens on that port.</summary>
    Refused,

    /// <summary>The worker accepted the connection but did not answer the handshake in time. A worker serves one client at a time, so another client holds it.</summary>
    Busy,

    /// <summary>The worker speaks another version of ggml's RPC protocol: it comes from another llama.cpp build.</summary>
    VersionMismatch,

    /// <summary>The worker closed the connection or answered something that is not ggml's RPC protocol.</summary>
    ProtocolError,

    /// <summary>The worker has no device to compute on.</summary>
    NoDevices,
}
