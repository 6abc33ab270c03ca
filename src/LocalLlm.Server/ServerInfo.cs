using System.Reflection;

namespace LocalLlm.Server;

/// <summary>What the server reports about its build: the llama.cpp version under it and this package's version.</summary>
internal static class ServerInfo
{
    public static readonly string LlamaCppVersion =
        typeof(LlamaModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "LlamaCppVersion")?.Value ?? "unknown";

    public static readonly string Version =
        typeof(ServerInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The <c>system_fingerprint</c> of every response: changes when the backend or the server changes.</summary>
    public static readonly string Fingerprint = $"localllm-{Version.Split('+')[0]}-llama.cpp-{LlamaCppVersion}";
}
