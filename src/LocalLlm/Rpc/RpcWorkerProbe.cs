using System.Buffers.Binary;
using System.Net.Sockets;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Checks a worker the way llama.cpp's RPC client would first talk to it (connect, HELLO, device count, device memory)
/// and closes the connection, so that what would abort the process inside llama.cpp becomes an exception here.
/// </summary>
internal static class RpcWorkerProbe
{
    public static async Task<LlamaRpcWorkerInfo> ProbeAsync(string endpointText, TimeSpan timeout, CancellationToken cancellationToken)
    {
        RpcEndpoint endpoint = RpcEndpoint.Parse(endpointText);
        string name = endpoint.ToString();
        using var client = new TcpClient { NoDelay = true };
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connecting.CancelAfter(timeout);
            try
            {
                await client.ConnectAsync(endpoint.Host, endpoint.Port, connecting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new LlamaRpcWorkerException(name, LlamaRpcWorkerFailure.Unreachable, $"The RPC worker {name} did not accept a connection within {timeout.TotalSeconds:0.#} s: check the address, that a worker runs there, and that no firewall drops the port.");
            }
            catch (SocketException ex)
            {
                (LlamaRpcWorkerFailure failure, string why) = ex.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => (LlamaRpcWorkerFailure.Refused, "refused the connection: no worker listens on that port (start one with rpc-server or samples/RpcWorker)"),
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => (LlamaRpcWorkerFailure.Unreachable, $"cannot be reached: the host name '{endpoint.Host}' does not resolve"),
                    _ => (LlamaRpcWorkerFailure.Unreachable, $"cannot be reached ({ex.SocketErrorCode}: {ex.Message})"),
                };
                throw new LlamaRpcWorkerException(name, failure, $"The RPC worker {name} {why}.", ex);
            }
        }

        NetworkStream stream = client.GetStream();
        using var answering = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        answering.CancelAfter(timeout);
        try
        {
            byte[] hello = await CallAsync(stream, RpcProtocol.CommandHello, new byte[RpcProtocol.HelloRequestSize], RpcProtocol.HelloResponseSize, name, answering.Token).ConfigureAwait(false);
            string version = $"{hello[0]}.{hello[1]}.{hello[2]}";
            if (hello[0] != RpcProtocol.MajorVersion || hello[1] > RpcProtocol.MinorVersion)
            {
                throw new LlamaRpcWorkerException(name, LlamaRpcWorkerFailure.VersionMismatch,
                    $"The RPC worker {name} speaks RPC protocol {version}, and this LocalLlm's llama.cpp speaks {RpcProtocol.Version}: run a worker from the same llama.cpp build (the rpc-server or RpcWorker that ships with this LocalLlm version).");
            }

            byte[] count = await CallAsync(stream, RpcProtocol.CommandDeviceCount, [], RpcProtocol.DeviceCountResponseSize, name, answering.Token).ConfigureAwait(false);
            uint deviceCount = BinaryPrimitives.ReadUInt32LittleEndian(count);
            if (deviceCount == 0)
            {
                throw new LlamaRpcWorkerException(name, LlamaRpcWorkerFailure.NoDevices, $"The RPC worker {name} has no device to compute on (check its -d/--device option and its backends).");
            }

            var devices = new List<LlamaDevice>((int)Math.Min(deviceCount, 64));
            for (uint device = 0; device < deviceCount && device < 64; device++)
            {
                byte[] request = new byte[RpcProtocol.DeviceMemoryRequestSize];
                BinaryPrimitives.WriteUInt32LittleEndian(request, device);
                byte[] memory = await CallAsync(stream, RpcProtocol.CommandGetDeviceMemory, request, RpcProtocol.DeviceMemoryResponseSize, name, answering.Token).ConfigureAwait(false);
                long free = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(memory), long.MaxValue);
                long total = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(memory.AsSpan(8)), long.MaxValue);
                devices.Add(new LlamaDevice($"{name}#{device}", $"device {device} of the RPC worker {name}", "RPC", LlamaDeviceType.Remote, free, total));
            }

            return new LlamaRpcWorkerInfo(name, version, devices);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LlamaRpcWorkerException(name, LlamaRpcWorkerFailure.Busy,
                $"The RPC worker {name} accepted the connection but did not answer the handshake within {timeout.TotalSeconds:0.#} s. A worker serves one client at a time: another process (or another model in this one) is connected to it.");
        }
        catch (IOException ex)
        {
            throw new LlamaRpcWorkerException(name, LlamaRpcWorkerFailure.ProtocolError,
                $"The RPC worker {name} closed the connection during the handshake: it is not a ggml RPC worker, or one from another llama.cpp build that refuses this protocol ({RpcProtocol.Version}).", ex);
        }
    }

    // One request and its reply: | command (1) | size (u64) | payload |, answered by | size (u64) | payload |.
    private static async Task<byte[]> CallAsync(NetworkStream stream, byte command, byte[] payload, int replySize, string name, CancellationToken cancellationToken)
    {
        byte[] request = new byte[1 + 8 + payload.Length];
        request[0] = command;
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(1), (ulong)payload.Length);
        payload.CopyTo(request, 9);
        await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);

        byte[] size = new byte[8];
        await stream.ReadExactlyAsync(size, cancellationToken).ConfigureAwait(false);
        ulong answered = BinaryPrimitives.ReadUInt64LittleEndian(size);
        if (answered != (ulong)replySize)
        {
            throw new LlamaRpcWorkerException(name, LlamaRpcWorkerFailure.ProtocolError,
                $"The RPC worker {name} answered command {command} with {answered} bytes where RPC protocol {RpcProtocol.Version} sends {replySize}: it is not a ggml RPC worker from this llama.cpp build.");
        }

        byte[] reply = new byte[replySize];
        await stream.ReadExactlyAsync(reply, cancellationToken).ConfigureAwait(false);
        return reply;
    }
}
