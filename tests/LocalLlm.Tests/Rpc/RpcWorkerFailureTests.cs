using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LocalLlm.FuzzTarget;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Rpc;

/// <summary>
/// What llama.cpp's RPC client would abort the process on becomes a named exception: a worker that is not there, busy,
/// from another build, or not a worker at all; and a worker lost mid-run, where llama.cpp does abort, is proven in a
/// child process.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RpcWorkerFailureTests
{
    private static string TinyPath => GeneratedModels.Ensure(ModelShape.Tiny);

    [Test]
    public async Task AProbe_OfARealWorker_ReadsItsProtocolAndDevices()
    {
        using RpcWorkerProcess worker = await RpcWorkerProcess.StartRpcServerAsync();

        LlamaRpcWorkerInfo info = await LlamaRpcWorker.ProbeAsync(worker.Endpoint);

        Assert.Multiple(() =>
        {
            Assert.That(info.Endpoint, Is.EqualTo(worker.Endpoint));
            Assert.That(info.ProtocolVersion, Is.EqualTo("7.0.0"));
            Assert.That(info.Devices, Has.Count.EqualTo(1), "a CPU-only worker serves its CPU");
            Assert.That(info.Devices[0].Name, Is.EqualTo($"{worker.Endpoint}#0"));
            Assert.That(info.Devices[0].Type, Is.EqualTo(LlamaDeviceType.Remote));
            Assert.That(info.Devices[0].TotalMemoryBytes, Is.GreaterThan(1L << 30));
            Assert.That(info.Devices[0].FreeMemoryBytes, Is.InRange(1L, info.Devices[0].TotalMemoryBytes));
        });
    }

    [Test]
    public void AWorkerThatIsDown_FailsTheLoad_NamingTheEndpoint()
    {
        string endpoint = $"127.0.0.1:{ClosedPort()}";

        LlamaModelLoadException? error = Assert.ThrowsAsync<LlamaModelLoadException>(() => LlamaModel.LoadAsync(TinyPath, new LlamaModelOptions { RpcServers = [endpoint] }));

        Assert.Multiple(() =>
        {
            Assert.That(error!.Failure, Is.EqualTo(LlamaModelLoadFailure.RpcWorkerUnavailable));
            Assert.That(error.Message, Does.Contain(endpoint).And.Contain("refused"));
            Assert.That(error.InnerException, Is.TypeOf<LlamaRpcWorkerException>().With.Property(nameof(LlamaRpcWorkerException.Failure)).EqualTo(LlamaRpcWorkerFailure.Refused));
        });
    }

    [Test]
    public async Task AWorkerHeldByAnotherClient_IsBusy()
    {
        using RpcWorkerProcess worker = await RpcWorkerProcess.StartRpcServerAsync();
        using var other = new TcpClient();
        await other.ConnectAsync(IPAddress.Loopback, int.Parse(worker.Endpoint.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        NetworkStream stream = other.GetStream();
        await stream.WriteAsync(Request(14, new byte[24])); // the other client's HELLO: the worker now serves it
        await stream.ReadExactlyAsync(new byte[8 + 28]);

        LlamaRpcWorkerException? error = Assert.ThrowsAsync<LlamaRpcWorkerException>(() => LlamaRpcWorker.ProbeAsync(worker.Endpoint, TimeSpan.FromMilliseconds(500)));

        Assert.That(error!.Failure, Is.EqualTo(LlamaRpcWorkerFailure.Busy));
        Assert.That(error.Message, Does.Contain("one client at a time"));
    }

    [TestCase("version 3", LlamaRpcWorkerFailure.VersionMismatch, "speaks RPC protocol 3.0.0")]
    [TestCase("a shorter reply", LlamaRpcWorkerFailure.ProtocolError, "answered command 14 with 12 bytes")]
    [TestCase("a hang-up", LlamaRpcWorkerFailure.ProtocolError, "closed the connection during the handshake")]
    public async Task AServerThatIsNotThisBuildsWorker_IsNamed(string answer, LlamaRpcWorkerFailure failure, string message)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task serving = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            NetworkStream stream = client.GetStream();
            await stream.ReadExactlyAsync(new byte[1 + 8 + 24]);
            byte[] reply = answer switch
            {
                "version 3" => Reply([3, 0, 0, 0, .. new byte[24]]),
                "a shorter reply" => Reply(new byte[12]),
                _ => [],
            };
            await stream.WriteAsync(reply);
        });
        string endpoint = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

        LlamaRpcWorkerException? error = Assert.ThrowsAsync<LlamaRpcWorkerException>(() => LlamaRpcWorker.ProbeAsync(endpoint, TimeSpan.FromSeconds(5)));
        await serving;

        Assert.That(error!.Failure, Is.EqualTo(failure));
        Assert.That(error.Message, Does.Contain(endpoint).And.Contain(message));
    }

    [TestCase("localhost", "not an RPC endpoint")]
    [TestCase("127.0.0.1:0", "from 1 to 65535")]
    [TestCase("::1:50052", "not an RPC endpoint")]
    public void AMalformedEndpoint_IsRefusedByTheOptions(string endpoint, string message)
    {
        var options = new LlamaModelOptions { RpcServers = [endpoint] };

        ArgumentException? error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.That(error!.Message, Does.Contain("RpcServers").And.Contain(message));
    }

    [Test]
    public void SplitSharesThatAreNegativeOrAllZero_AreRefused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new LlamaModelOptions { TensorSplit = [1, -1] }.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("TensorSplit"));
            Assert.That(new LlamaModelOptions { TensorSplit = [0, 0] }.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("not all 0"));
            Assert.That(new LlamaModelOptions { RpcServers = ["a:1", "A:1"] }.Validate, Throws.ArgumentException.With.Message.Contains("twice"));
        });
    }

    [Test]
    public async Task ASplitOfAnotherLengthThanTheDevices_FailsTheLoad_ListingThem()
    {
        using RpcWorkerProcess worker = await RpcWorkerProcess.StartRpcServerAsync();

        LlamaModelLoadException? error = Assert.ThrowsAsync<LlamaModelLoadException>(() => LlamaModel.LoadAsync(TinyPath, new LlamaModelOptions { RpcServers = [worker.Endpoint], TensorSplit = [1, 2] }));

        Assert.That(error!.Failure, Is.EqualTo(LlamaModelLoadFailure.InvalidDeviceSplit));
        Assert.That(error.Message, Does.Contain("2 shares for 1 devices").And.Contain($"{worker.Endpoint}#0"));
    }

    [Test]
    public async Task AWorkerLostMidRun_AbortsTheProcessInsideLlamaCpp_AsTheReadmeWarns()
    {
        using RpcWorkerProcess worker = await RpcWorkerProcess.StartRpcServerAsync();

        ChildRun child = ChildProbe.Run("--rpc-worker-lost", TinyPath, worker.Endpoint, worker.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        TestContext.Out.WriteLine($"exit {child.ExitCode}; {child.Output.Trim()}; {child.LastErrorLine}");

        Assert.Multiple(() =>
        {
            Assert.That(child.Output, Does.Contain("generated across the worker").And.Contain("worker stopped"));
            Assert.That(child.ExitCode, Is.EqualTo(134), "SIGABRT: llama.cpp's RPC client aborts when a worker is lost");
            Assert.That(child.Error, Does.Contain("RPC"));
        });
    }

    private static byte[] Request(byte command, byte[] payload)
    {
        byte[] request = new byte[9 + payload.Length];
        request[0] = command;
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(1), (ulong)payload.Length);
        payload.CopyTo(request, 9);
        return request;
    }

    private static byte[] Reply(byte[] payload)
    {
        byte[] reply = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(reply, (ulong)payload.Length);
        payload.CopyTo(reply, 8);
        return reply;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
