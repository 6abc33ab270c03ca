using System.Globalization;

namespace LocalLlm;

/// <summary>A worker's <c>host:port</c>, read as ggml's RPC backend reads it (split at the first colon; no IPv6 literals).</summary>
internal readonly record struct RpcEndpoint(string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string? text, out RpcEndpoint endpoint, out string problem)
    {
        endpoint = default;
        int colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (string.IsNullOrWhiteSpace(text) || colon <= 0 || text.Any(char.IsWhiteSpace))
        {
            problem = $"'{text}' is not an RPC endpoint: write host:port, for example 192.168.1.20:50052.";
            return false;
        }

        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            problem = $"'{text}' is not an RPC endpoint: the port after the first colon must be a number from 1 to 65535 (IPv6 addresses are not supported by ggml's RPC backend; use a host name).";
            return false;
        }

        endpoint = new RpcEndpoint(text[..colon], port);
        problem = string.Empty;
        return true;
    }

    public static RpcEndpoint Parse(string text) =>
        TryParse(text, out RpcEndpoint endpoint, out string problem)
            ? endpoint
            : throw new LlamaRpcWorkerException(text, LlamaRpcWorkerFailure.InvalidEndpoint, problem);
}
