// Loads a GGUF model and prints what llama.cpp made of it: the devices it found, how long loading took,
// the fit plan (layers, context, and weights, KV cache and compute per device) before loading, where the layers went, the model's metadata,
// and how it tokenizes a sentence. --model takes a path, hf:owner/repo[:quant] or an https:// address.
//
// --rpc host:port (repeatable) lists a worker's devices and places the offloaded layers on it.
//
//   dotnet run --project samples/ModelInfo -- --model path/to/model.gguf [--gpu-layers N] [--rpc host:port] [--vocab-only] [--verbose]
using System.Diagnostics;
using LocalLlm;
using Microsoft.Extensions.Logging;

string? modelPath = null;
int gpuLayers = -1;
bool verbose = false;
bool vocabularyOnly = false;
var rpcServers = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model" when i + 1 < args.Length: modelPath = args[++i]; break;
        case "--gpu-layers" when i + 1 < args.Length: gpuLayers = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--rpc" when i + 1 < args.Length: rpcServers.Add(args[++i]); break;
        case "--verbose": verbose = true; break;
        case "--vocab-only": vocabularyOnly = true; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: ModelInfo --model <path.gguf> [--gpu-layers N] [--rpc host:port] [--vocab-only] [--verbose]");
            return 2;
    }
}

if (modelPath is null)
{
    Console.Error.WriteLine("Usage: ModelInfo --model <path.gguf> [--gpu-layers N] [--rpc host:port] [--vocab-only] [--verbose]");
    return 2;
}

using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder
    .AddSimpleConsole(o => o.SingleLine = true)
    .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
    .AddFilter("LocalLlm.LlamaCpp", level => verbose ? level >= LogLevel.Debug : level >= LogLevel.Warning));

LlamaBackendInfo backend = LlamaBackend.Initialize(new LlamaBackendOptions { LoggerFactory = loggerFactory });
Console.WriteLine($"llama.cpp {backend.LlamaCppVersion} from {backend.NativeLibraryDirectory}");
foreach (LlamaDevice device in backend.Devices)
{
    Console.WriteLine($"  device {device.Name} ({device.Type}, {device.Backend}): {device.Description}, {device.FreeMemoryBytes / 1048576} / {device.TotalMemoryBytes / 1048576} MiB free");
}

foreach (string failure in backend.GpuBackendFailures)
{
    Console.WriteLine($"  GPU not used: {failure}");
}

foreach (string endpoint in rpcServers)
{
    try
    {
        LlamaRpcWorkerInfo worker = await LlamaRpcWorker.ProbeAsync(endpoint);
        foreach (LlamaDevice device in worker.Devices)
        {
            Console.WriteLine($"  device {device.Name} ({device.Type}, RPC protocol {worker.ProtocolVersion}): {device.FreeMemoryBytes / 1048576} / {device.TotalMemoryBytes / 1048576} MiB free");
        }
    }
    catch (LlamaRpcWorkerException ex)
    {
        Console.Error.WriteLine(ex.Message);
        return 1;
    }
}

var stopwatch = Stopwatch.StartNew();
LlamaModel model;
try
{
    if (LlamaModelReference.Parse(modelPath).IsRemote)
    {
        using var downloader = new LlamaModelDownloader();
        modelPath = (await downloader.ResolveAsync(modelPath)).ModelPath;
    }

    if (!vocabularyOnly && rpcServers.Count == 0)
    {
        // llama.cpp's fit does not see RPC workers' memory, so it is planned for local devices only.
        // The fit plan before the load (llama-server's --fit, then the host): layers, context, and what they take per device.
        LlamaFitPlan plan = LlamaModel.PlanFit(modelPath, new LlamaFitOptions { GpuLayerCount = gpuLayers == -1 ? null : gpuLayers });
        Console.WriteLine($"Fit plan: {(plan.Fits ? "fits" : "does not fit")} with {plan.GpuLayerCount} GPU layers (-1: all of {plan.Estimate.LayerCount}) and a {plan.ContextSize}-token context, keeping 1 GiB free{(plan.Fits ? string.Empty : $": {plan.Explanation}")}");
        foreach (LlamaDeviceMemoryEstimate device in plan.Estimate.Devices)
        {
            Console.WriteLine($"  {device.Device}: weights {device.ModelBytes / 1048576.0:F1} MiB, KV cache {device.ContextBytes / 1048576.0:F1} MiB, compute {device.ComputeBytes / 1048576.0:F1} MiB, token tables {device.TokenizerBytes / 1048576.0:F1} MiB; {device.FreeBytes / 1048576} MiB free");
        }
    }

    stopwatch.Restart();
    model = await LlamaModel.LoadAsync(modelPath, new LlamaModelOptions { GpuLayerCount = gpuLayers, VocabularyOnly = vocabularyOnly, RpcServers = rpcServers });
}
catch (Exception ex) when (ex is LlamaException or FileNotFoundException or ArgumentException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

stopwatch.Stop();
using var ownedModel = model;

LlamaModelMetadata metadata = model.Metadata;
Console.WriteLine($"Loaded {model.Path} in {stopwatch.Elapsed.TotalMilliseconds:F0} ms (gpu layers requested: {gpuLayers})");
Console.WriteLine($"  {metadata.Description}: {metadata.Architecture}, {metadata.ParameterCount:N0} parameters, {metadata.SizeInBytes / 1048576.0:F1} MiB, {metadata.FileType}");
Console.WriteLine($"  {metadata.LayerCount} layers, embedding {metadata.EmbeddingSize}, heads {metadata.HeadCount}/{metadata.KeyValueHeadCount}, trained context {metadata.TrainedContextLength}");
Console.WriteLine($"  chat template: {(metadata.ChatTemplate is null ? "none" : $"{metadata.ChatTemplate.Length} characters")}");
if (model.LayerDevices.Count > 0)
{
    Console.WriteLine($"  layers: {string.Join(", ", model.LayerDevices.Select((device, layer) => (device, layer)).GroupBy(p => p.device).Select(g => $"{g.Min(p => p.layer)}-{g.Max(p => p.layer)} on {g.Key}"))} (the last is the output layer)");
}

const string sentence = "Hello from LocalLlm! Ça va? 日本語 🦙";
int[] tokens = model.Tokenizer.Tokenize(sentence);
Console.WriteLine($"  '{sentence}' -> {tokens.Length} tokens [{string.Join(' ', tokens)}] -> '{model.Tokenizer.Detokenize(tokens, removeSpecial: true)}'");
return 0;
