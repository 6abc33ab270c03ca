// An OpenAI-compatible server for one GGUF model, as llama-server is: chat completions (streamed, tools, JSON schema,
// reasoning), completions, embeddings, and llama-server's /health, /tokenize, /props and /metrics.
//
//   dotnet run --project samples/Server -- --model path/to/model.gguf --port 8080 [--parallel 4] [--api-key KEY]
//   curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
//        -d '{"messages":[{"role":"user","content":"Hello"}]}'
//
// Every option also binds from configuration (appsettings.json, LocalLlm__ModelPath=..., LocalLlmServer__ApiKeys__0=...).
using System.CommandLine;
using LocalLlm;
using LocalLlm.ModelGenerator;

var model = new Option<string?>("--model", "-m") { Description = "The model: a GGUF file, hf:owner/repo[:quant] or an https:// address. Default: a generated model with random weights (its replies are nonsense)." };
var host = new Option<string>("--host") { Description = "The address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port") { Description = "The port to listen on.", DefaultValueFactory = _ => 8080 };
var alias = new Option<string?>("--alias") { Description = "The model id clients use. Default: the file name without .gguf." };
var context = new Option<int?>("--ctx-size", "-c") { Description = "Context tokens per parallel sequence. Default: the model's trained length, capped." };
var parallel = new Option<int>("--parallel", "-np") { Description = "Requests generated at once (continuous batching).", DefaultValueFactory = _ => 4 };
var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads. Default: the physical cores." };
var gpuLayers = new Option<int>("--gpu-layers", "-ngl") { Description = "Layers offloaded to the GPU (-1: all).", DefaultValueFactory = _ => -1 };
var fit = new Option<bool>("--fit") { Description = "Choose the GPU layers and context size that leave 1 GiB free on every device (llama-server's --fit), unless given." };
var maxQueue = new Option<int>("--max-queue") { Description = "Requests that may wait beyond --parallel before the server answers 429.", DefaultValueFactory = _ => 64 };
var apiKeys = new Option<string[]>("--api-key") { Description = "An API key clients must send as 'Authorization: Bearer <key>' (repeatable).", AllowMultipleArgumentsPerToken = false };
var apiKeyFile = new Option<string?>("--api-key-file") { Description = "A file of API keys, one per line." };
var origins = new Option<string[]>("--cors-origin") { Description = "A browser origin allowed to call the server, or * (repeatable)." };

var root = new RootCommand("Serves a GGUF model over an OpenAI-compatible HTTP API.")
{
    model, host, port, alias, context, parallel, threads, gpuLayers, fit, maxQueue, apiKeys, apiKeyFile, origins,
};
root.SetAction(async (parse, cancellationToken) =>
{
    string? modelPath = parse.GetValue(model);
    if (modelPath is null)
    {
        modelPath = GeneratedModels.Ensure(ModelShape.Tiny);
        Console.Error.WriteLine("No --model given: serving a generated model with random weights, so its replies are nonsense.");
    }

    WebApplicationBuilder builder = WebApplication.CreateBuilder();
    builder.WebHost.UseUrls($"http://{parse.GetValue(host)}:{parse.GetValue(port)}");
    builder.Logging.AddFilter("LocalLlm.LlamaCpp", LogLevel.Warning);
    builder.Services.AddLocalLlm(o =>
        {
            builder.Configuration.GetSection(LocalLlmOptions.SectionName).Bind(o);
            o.ModelPath = modelPath;
            o.ModelId = parse.GetValue(alias) ?? o.ModelId;
            o.ContextSize = parse.GetValue(context) ?? o.ContextSize;
            o.ParallelSequences = parse.GetValue(parallel);
            o.ThreadCount = parse.GetValue(threads) ?? o.ThreadCount;
            o.GpuLayerCount = parse.GetValue(gpuLayers);
            o.FitToMemory = parse.GetValue(fit);
            o.MaxQueuedRequests = parse.GetValue(maxQueue);
            o.QueueFullBehavior = LlamaQueueFullBehavior.Fail;             // a full queue answers 429, never hangs
        })
        .AddOpenAiServer(o =>
        {
            builder.Configuration.GetSection(LocalLlm.Server.LocalLlmServerOptions.SectionName).Bind(o);
            foreach (string key in parse.GetValue(apiKeys) ?? [])
            {
                o.ApiKeys.Add(key);
            }

            o.ApiKeyFile = parse.GetValue(apiKeyFile) ?? o.ApiKeyFile;
            foreach (string origin in parse.GetValue(origins) ?? [])
            {
                o.AllowedOrigins.Add(origin);
            }
        });

    WebApplication app = builder.Build();
    app.UseCors();
    app.MapLocalLlmOpenAi();
    await app.RunAsync(cancellationToken);
    return 0;
});

return await root.Parse(args).InvokeAsync();
