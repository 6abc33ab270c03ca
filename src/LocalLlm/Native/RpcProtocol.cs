namespace LocalLlm.Native;

/// <summary>
/// The parts of ggml's RPC protocol (ggml/src/ggml-rpc/ggml-rpc.cpp, <c>#pragma pack(1)</c>) that LocalLlm speaks itself
/// to probe a worker before llama.cpp connects to it: llama.cpp aborts the process when a worker cannot be reached or
/// answers the handshake wrongly, so the probe finds that out first. A request is the command byte, the payload's
/// size (u64) and the payload; a reply is its size (u64) and the payload. Checked against the pinned source by the ABI test.
/// </summary>
internal static class RpcProtocol
{
    public const byte MajorVersion = 7; // RPC_PROTO_MAJOR_VERSION
    public const byte MinorVersion = 0; // RPC_PROTO_MINOR_VERSION
    public const byte PatchVersion = 0; // RPC_PROTO_PATCH_VERSION

    public const byte CommandGetDeviceMemory = 11; // RPC_CMD_GET_DEVICE_MEMORY
    public const byte CommandHello = 14; // RPC_CMD_HELLO
    public const byte CommandDeviceCount = 15; // RPC_CMD_DEVICE_COUNT

    public const int ConnectionCapsSize = 24; // RPC_CONN_CAPS_SIZE: all zero asks for plain TCP
    public const int HelloRequestSize = ConnectionCapsSize; // rpc_msg_hello_req
    public const int HelloResponseSize = 4 + ConnectionCapsSize; // rpc_msg_hello_rsp: major, minor, patch, padding, caps
    public const int DeviceCountResponseSize = 4; // rpc_msg_device_count_rsp
    public const int DeviceMemoryRequestSize = 4; // rpc_msg_get_device_memory_req
    public const int DeviceMemoryResponseSize = 16; // rpc_msg_get_device_memory_rsp: free, total

    /// <summary>The most servers ggml's RPC backend takes (GGML_RPC_MAX_SERVERS).</summary>
    public const int MaxServers = 16;

    public static string Version => $"{MajorVersion}.{MinorVersion}.{PatchVersion}";
}
