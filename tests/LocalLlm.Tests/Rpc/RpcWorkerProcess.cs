using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LocalLlm.Tests.Rpc;

/// <summary>An RPC worker on a free loopback port, for one test fixture: the packaged rpc-server, or the RpcWorker sample.</summary>
internal sealed class RpcWorkerProcess : IDisposable
{
    private readonly Process _process;

    private RpcWorkerProcess(Process process, int port)
    {
        _process = process;
        Endpoint = $"127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the rpc-server that LocalLlm.Backend.Rpc ships, beside the test's native libraries.</summary>
    public static Task<RpcWorkerProcess> StartRpcServerAsync(int threads = 1)
    {
        string server = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "rpc-server");
        int port = FreePort();
        return StartAsync(server, ["-H", "127.0.0.1", "-p", Text(port), "-t", Text(threads)], port);
    }

    /// <summary>Starts the linux-arm64 rpc-server that LocalLlm.Backend.Rpc ships, under qemu-user, on the arm64 CPU libraries beside it.</summary>
    public static Task<RpcWorkerProcess> StartEmulatedArm64RpcServerAsync()
    {
        string server = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-arm64", "native", "rpc-server");
        int port = FreePort();
        return StartAsync(Native.Arm64Emulator.Path!, Native.Arm64Emulator.Arguments(server, "-H", "127.0.0.1", "-p", Text(port), "-t", "1"), port);
    }

    /// <summary>Starts samples/RpcWorker (built with the solution) with <c>dotnet</c>.</summary>
    public static Task<RpcWorkerProcess> StartSampleAsync(int threads = 1)
    {
        string sample = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "RpcWorker", "bin", "Release", "net10.0", "RpcWorker.dll");
        Assert.That(File.Exists(sample), Is.True, $"the RpcWorker sample is built with the solution ({sample})");
        int port = FreePort();
        return StartAsync("dotnet", [sample, "--port", Text(port), "--threads", Text(threads)], port);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<RpcWorkerProcess> StartAsync(string program, string[] arguments, int port)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var worker = new RpcWorkerProcess(Process.Start(start)!, port);
        worker._process.OutputDataReceived += (_, _) => { };
        worker._process.ErrorDataReceived += (_, _) => { };
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();

        // Ready once it answers a probe (which disconnects at once, leaving the worker to the test).
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await LlamaRpcWorker.ProbeAsync(worker.Endpoint, TimeSpan.FromSeconds(5));
                return worker;
            }
            catch (LlamaRpcWorkerException) when (waited.Elapsed < TimeSpan.FromSeconds(30) && !worker._process.HasExited)
            {
                await Task.Delay(100);
            }
            catch
            {
                worker.Dispose();
                throw;
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
