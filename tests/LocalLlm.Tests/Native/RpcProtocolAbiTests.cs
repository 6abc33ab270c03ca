using System.Diagnostics;
using LocalLlm.Native;

namespace LocalLlm.Tests.Native;

/// <summary>
/// The RPC protocol LocalLlm speaks to probe a worker (<see cref="RpcProtocol"/>) is the pinned source's: a probe
/// compiled with the backend's own translation unit prints its versions, command numbers and message sizes. The entry
/// points LocalLlm reaches through the RPC registry exist in the library it loaded.
/// </summary>
[TestFixture]
public sealed class RpcProtocolAbiTests
{
    [Test]
    public void TheProbesConstants_AreThePinnedSources()
    {
        string source = TestEnvironment.LlamaCppSourceDirectory;
        string native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        string work = TestEnvironment.CreateTempDirectory();
        string probe = Path.Combine(work, "rpc-probe.cpp");
        File.WriteAllText(probe, """
            #include "ggml-rpc/ggml-rpc.cpp"
            #include <cstdio>
            int main() {
                std::printf("%d %d %d %d %d %d %zu %zu %zu %zu %zu %zu %d\n",
                    RPC_PROTO_MAJOR_VERSION, RPC_PROTO_MINOR_VERSION, RPC_PROTO_PATCH_VERSION,
                    (int)RPC_CMD_GET_DEVICE_MEMORY, (int)RPC_CMD_HELLO, (int)RPC_CMD_DEVICE_COUNT,
                    RPC_CONN_CAPS_SIZE, sizeof(rpc_msg_hello_req), sizeof(rpc_msg_hello_rsp), sizeof(rpc_msg_device_count_rsp),
                    sizeof(rpc_msg_get_device_memory_req), sizeof(rpc_msg_get_device_memory_rsp), GGML_RPC_MAX_SERVERS);
            }
            """);
        string binary = Path.Combine(work, "rpc-probe");
        Run("g++", "-std=c++17", "-O0", "-DGGML_BACKEND_DL", "-DGGML_BACKEND_BUILD", "-DGGML_BACKEND_SHARED", "-DGGML_SHARED", "-DGGML_BUILD",
            $"-I{source}/ggml/include", $"-I{source}/ggml/src", probe, $"{source}/ggml/src/ggml-rpc/transport.cpp",
            $"-L{native}", "-l:libggml-base.so", $"-Wl,-rpath,{native}", "-o", binary);

        string[] printed = Run(binary).Trim().Split(' ');

        int[] expected =
        [
            RpcProtocol.MajorVersion, RpcProtocol.MinorVersion, RpcProtocol.PatchVersion,
            RpcProtocol.CommandGetDeviceMemory, RpcProtocol.CommandHello, RpcProtocol.CommandDeviceCount,
            RpcProtocol.ConnectionCapsSize, RpcProtocol.HelloRequestSize, RpcProtocol.HelloResponseSize, RpcProtocol.DeviceCountResponseSize,
            RpcProtocol.DeviceMemoryRequestSize, RpcProtocol.DeviceMemoryResponseSize, RpcProtocol.MaxServers,
        ];
        Assert.That(printed.Select(int.Parse), Is.EqualTo(expected));
    }

    [Test]
    public void TheRegistry_HasTheEntryPointsLocalLlmCalls()
    {
        NativeLibraryLoader.EnsureInitialized();

        Assert.Multiple(() =>
        {
            Assert.That(RpcBackend.Function("ggml_backend_rpc_add_server"), Is.Not.Zero);
            Assert.That(RpcBackend.Function("ggml_backend_rpc_start_server"), Is.Not.Zero);
        });
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"{program} failed: {error.Result}");
        return output;
    }
}
