// An RPC worker: lends this machine's CPU or GPUs to a LocalLlm client (LlamaModelOptions.RpcServers) or to llama.cpp
// (--rpc), which places some of a model's layers here and sends the computations over TCP.
//
//   dotnet run --project samples/RpcWorker -- [--host 127.0.0.1] [--port 50052] [--threads N] [--device CPU] [--cache DIR]
//
// ggml's RPC protocol has no authentication or encryption: keep the worker on 127.0.0.1 (and reach it through an SSH
// tunnel) or inside a private network. It serves one client at a time and runs until the process ends (Ctrl+C).
using System.CommandLine;
using LocalLlm;
using Microsoft.Extensions.Logging;

var host = new Option<string>("--host", "-H") { Description = "The address to listen on. Anything but 127.0.0.1 exposes an unauthenticated protocol.", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port", "-p") { Description = "The TCP port to listen on.", DefaultValueFactory = _ => 50052 };
var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads for a CPU device. Default: every core." };
var devices = new Option<string[]>("--device", "-d") { Description = "A device to serve, by ggml name (CPU, CUDA0; repeatable). Default: the GPUs, else the CPU." };
var cache = new Option<string?>("--cache", "-c") { Description = "A directory that keeps received tensors by hash, so a model loaded again is not sent again." };

var root = new RootCommand("Serves this machine's devices to LocalLlm or llama.cpp clients over ggml's RPC protocol.") { host, port, threads, devices, cache };
root.SetAction(parse =>
{
    using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter("LocalLlm.LlamaCpp", LogLevel.Warning));
    var options = new LlamaRpcWorkerOptions
    {
        Host = parse.GetValue(host)!,
        Port = parse.GetValue(port),
        ThreadCount = parse.GetValue(threads),
        Devices = [.. parse.GetValue(devices) ?? []],
        CacheDirectory = parse.GetValue(cache),
        LoggerFactory = logging,
    };
    try
    {
        LlamaRpcWorker.Run(options); // returns only when it could not listen
        return 0;
    }
    catch (Exception ex) when (ex is ArgumentException or LlamaException)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        return 1;
    }
});

return await root.Parse(args).InvokeAsync();
