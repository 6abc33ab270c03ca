// Raw prompt completion (no chat template) on a LlamaSession, with the sampler chain built from the command line.
// The text is printed as it streams, then a line with the finish reason and the speed.
//
//   dotnet run --project samples/Completion -- [--model path/to/model.gguf] [--prompt "Once upon a time"]
//       [--max-tokens 128] [--temperature 0.8] [--top-k 40] [--top-p 0.95] [--min-p 0.05] [--repeat-penalty 1.1]
//       [--seed 42] [--grammar-file answer.gbnf] [--stop "\n\n"]... [--context 2048] [--parallel 4]
//       [--lora adapter.gguf[:scale]]... [--lookup | --draft small-model.gguf] [--threads 4] [--token-ids]
//
// --lora applies a LoRA adapter made for the model (repeatable), at scale 1 unless one follows a colon.
// --lookup turns on speculative decoding by prompt lookup; --draft with a smaller model of the same vocabulary.
// --token-ids prints the generated tokens' ids and log-probabilities after the text, to compare runs (another
// machine, another build).
//
// --parallel N completes the prompt N times at once on a LlamaScheduler (continuous batching: one decode call
// advances every completion by a token) and prints each one with the aggregate speed.
//
// Options left out keep llama.cpp's defaults. An invalid value exits with code 2, a model that cannot load with 1.
using System.Globalization;
using LocalLlm;
using LocalLlm.ModelGenerator;

string? modelPath = null;
string prompt = "Once upon a time";
int? contextSize = null;
int? threads = null;
bool printTokenIds = false;
int parallel = 1;
var loras = new List<(string Path, float Scale)>();
bool lookup = false;
string? draftPath = null;
var generation = new LlamaGenerationOptions { MaxTokens = 128 };
LlamaSamplingBuilder sampling = LlamaSampling.Create();      // starts from llama.cpp's defaults
try
{
    var commandLine = new CommandLine(args);
    while (commandLine.NextOption() is { } option)
    {
        switch (option)
        {
            case "--model": modelPath = commandLine.Text(); break;
            case "--prompt": prompt = commandLine.Text(); break;
            case "--context": contextSize = commandLine.Int32(); break;
            case "--threads": threads = commandLine.Int32(); break;
            case "--token-ids": printTokenIds = true; break;
            case "--parallel": parallel = commandLine.Int32(); break;
            case "--max-tokens": generation.MaxTokens = commandLine.Int32(); break;
            case "--stop": generation.StopStrings.Add(Unescape(commandLine.Text())); break;
            case "--temperature": sampling.Temperature(commandLine.Single()); break;
            case "--top-k": sampling.TopK(commandLine.Int32()); break;
            case "--top-p": sampling.TopP(commandLine.Single()); break;
            case "--min-p": sampling.MinP(commandLine.Single()); break;
            case "--repeat-penalty": sampling.RepetitionPenalty(commandLine.Single()); break;
            case "--seed": sampling.Seed(commandLine.UInt32()); break;
            case "--grammar-file": sampling.Grammar(File.ReadAllText(commandLine.Text())); break;
            case "--lora": loras.Add(LoraArgument(commandLine.Text())); break;
            case "--lookup": lookup = true; break;
            case "--draft": draftPath = commandLine.Text(); break;
            default: throw new ArgumentException($"Unknown option '{option}'. See the top of samples/Completion/Program.cs.");
        }
    }

    generation.Sampling = sampling.Build();
    generation.LogProbabilities = printTokenIds;
    generation.Validate();
    new LlamaContextOptions { ContextSize = contextSize, ThreadCount = threads }.Validate();
    new LlamaSchedulerOptions { ParallelSequences = parallel }.Validate();
}
catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
{
    // ArgumentOutOfRangeException (an ArgumentException) names the setting, the rule and the value.
    Console.Error.WriteLine(ex.Message);
    return 2;
}

if (modelPath is null)
{
    modelPath = GeneratedModels.Ensure(ModelShape.Tiny);
    Console.WriteLine("No --model given: using a generated model with random weights, so the text is nonsense. Try a real one: --model path/to/model.gguf");
}

LlamaModel model;
LlamaModel? draftModel = null;
var adapters = new List<LlamaLoraAdapter>();
try
{
    model = await LlamaModel.LoadAsync(modelPath);
    if (draftPath is not null)
    {
        draftModel = await LlamaModel.LoadAsync(draftPath);
        generation.Speculation = new LlamaSpeculationOptions { DraftModel = draftModel };
    }
    else if (lookup)
    {
        generation.Speculation = new LlamaSpeculationOptions();
    }

    foreach ((string path, float scale) in loras)
    {
        LlamaLoraAdapter adapter = LlamaLoraAdapter.Load(model, path);
        adapters.Add(adapter);
        generation.Adapters.Add(new LlamaLoraApplication(adapter, scale));
    }

    generation.Validate();
}
catch (Exception ex) when (ex is LlamaException or IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

if (parallel > 1)
{
    using (model)
    {
        return await CompleteSideBySideAsync(model, prompt, generation, parallel, contextSize, threads);
    }
}

using (model)
using (var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = contextSize, ThreadCount = threads }))
{
    Console.Write(prompt);
    var tokenIds = new List<int>();
    var logProbabilities = new List<float>();
    try
    {
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, generation))
        {
            Console.Write(update.Text);
            if (update.TokenId is int tokenId)
            {
                tokenIds.Add(tokenId);
                logProbabilities.Add(update.LogProbability ?? float.NaN);
            }

            if (update is { FinishReason: { } reason, Usage: { } usage })
            {
                Console.WriteLine();
                string drafts = generation.Speculation is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", {usage.AcceptedDraftTokens} of {usage.DraftTokens} drafted tokens kept");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{reason}] prompt {usage.PromptTokens} tokens ({usage.PromptTokensPerSecond:F1} tokens/s), " +
                    $"generated {usage.GeneratedTokens} tokens ({usage.GenerationTokensPerSecond:F1} tokens/s){drafts}"));
                if (printTokenIds)
                {
                    Console.WriteLine($"token ids: {string.Join(",", tokenIds)}");
                    Console.WriteLine($"log-probabilities: {string.Join(",", logProbabilities.Select(p => p.ToString("F5", CultureInfo.InvariantCulture)))}");
                }
            }
        }
    }
    catch (ArgumentException ex)
    {
        // A grammar is parsed when the sampler chain is made, and a draft model's vocabulary checked when the request
        // starts, so either is reported here.
        Console.WriteLine();
        Console.Error.WriteLine(ex.Message);
        return 2;
    }
}

foreach (LlamaLoraAdapter adapter in adapters)
{
    adapter.Dispose();
}

draftModel?.Dispose();

return 0;

// "adapter.gguf" or "adapter.gguf:0.5".
static (string Path, float Scale) LoraArgument(string text)
{
    int colon = text.LastIndexOf(':');
    return colon > 0 && float.TryParse(text.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out float scale)
        ? (text[..colon], scale)
        : (text, 1f);
}

// Runs the same prompt as several requests on one scheduler; with a random seed each continues differently.
static async Task<int> CompleteSideBySideAsync(LlamaModel model, string prompt, LlamaGenerationOptions generation, int parallel, int? contextSize, int? threads)
{
    using var scheduler = new LlamaScheduler(model, new LlamaSchedulerOptions { ParallelSequences = parallel, ContextSizePerSequence = contextSize ?? 2048, ThreadCount = threads });
    var started = System.Diagnostics.Stopwatch.StartNew();
    LlamaCompletion[] completions;
    try
    {
        completions = await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => scheduler.CompleteAsync(prompt, generation)));
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        return 2;
    }

    double seconds = started.Elapsed.TotalSeconds;
    for (int i = 0; i < completions.Length; i++)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--- {i + 1} [{completions[i].FinishReason}, first token after {completions[i].Usage.TimeToFirstToken?.TotalMilliseconds:F0} ms]"));
        Console.WriteLine(prompt + completions[i].Text);
    }

    int generated = completions.Sum(c => c.Usage.GeneratedTokens);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{parallel} completions side by side: {generated} tokens in {seconds:F1} s ({generated / seconds:F1} tokens/s together)"));
    return 0;
}

// Lets a shell pass "\n" and "\t" inside --stop strings.
static string Unescape(string value) => value.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal);
