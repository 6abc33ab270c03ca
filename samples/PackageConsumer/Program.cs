// Streams a completion through the LocalLlm and LocalLlm.Backend.Cpu packages restored from the local feed.
//
//   dotnet pack src/LocalLlm -c Release && dotnet pack src/LocalLlm.Backend.Cpu -c Release
//   dotnet run --project samples/PackageConsumer -- [--model path.gguf] [--prompt "..."] [--max-tokens N]
using LocalLlm;

string? modelPath = null;
string prompt = "Once upon a time";
int maxTokens = 32;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--model": modelPath = args[i + 1]; break;
        case "--prompt": prompt = args[i + 1]; break;
        case "--max-tokens": maxTokens = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"Unknown argument '{args[i]}'."); return 2;
    }
}

modelPath ??= DefaultModel();
if (modelPath is null)
{
    Console.Error.WriteLine("No model: pass --model path/to/model.gguf, or generate the default with 'dotnet run --project models/ModelGenerator -- tiny'.");
    return 2;
}

try
{
    using LlamaModel model = await LlamaModel.LoadAsync(modelPath);
    using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 512 });
    Console.WriteLine($"{model.Metadata.Description} from {model.Path} (llama.cpp {LlamaBackend.Current!.LlamaCppVersion}, {LlamaBackend.Current.NativeLibraryDirectory})");

    await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, new LlamaGenerationOptions { MaxTokens = maxTokens, Sampling = LlamaSamplingOptions.Greedy }))
    {
        Console.Write(update.Text);
        if (update.Usage is { } usage)
        {
            Console.WriteLine();
            Console.WriteLine($"generated {usage.GeneratedTokens} tokens ({update.FinishReason}, {usage.GenerationTokensPerSecond:F1} tokens/s)");
        }
    }

    return 0;
}
catch (Exception ex) when (ex is LlamaException or FileNotFoundException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

// The repository's generated test model, when it has been generated (random weights: the text is nonsense).
static string? DefaultModel()
{
    for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        string generated = Path.Combine(directory.FullName, "models", "generated");
        if (Directory.Exists(generated))
        {
            return Directory.EnumerateFiles(generated, "tiny-*.gguf").Where(f => !Path.GetFileName(f).Contains("-q", StringComparison.Ordinal)).Order(StringComparer.Ordinal).FirstOrDefault();
        }
    }

    return null;
}
