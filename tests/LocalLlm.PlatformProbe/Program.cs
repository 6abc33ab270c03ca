// Usage: LocalLlm.PlatformProbe <model.gguf> <prompt> [<chat-template.jinja>]
//
// Prints, one "key: value" line each: the process's RID, the native folder LocalLlm loaded and the CPU features
// llama.cpp saw; the greedy tokens of a raw completion of the prompt, with each token's log-probability and each step's top three;
// and, given a template, a conversation it renders through the chat shim and a tool call that the model's own
// template and the shim's grammar and parser make. Exit code 0 when every step ran; 1 with the exception on stderr.
using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using LocalLlm;
using Microsoft.Extensions.AI;

if (args is not [string modelPath, string prompt, .. var rest] || rest.Length > 1)
{
    Console.Error.WriteLine("usage: LocalLlm.PlatformProbe <model.gguf> <prompt> [<chat-template.jinja>]");
    return 2;
}

string? templatePath = rest.FirstOrDefault();

try
{
    LlamaBackendInfo backend = LlamaBackend.Initialize(new LlamaBackendOptions { EnableGpu = false });
    Console.WriteLine($"rid: {RuntimeInformation.RuntimeIdentifier} ({RuntimeInformation.ProcessArchitecture})");
    Console.WriteLine($"native: {Path.GetRelativePath(AppContext.BaseDirectory, backend.NativeLibraryDirectory)}");
    Console.WriteLine($"system: {backend.SystemInfo.Trim()}");

    using LlamaModel model = await LlamaModel.LoadAsync(modelPath);
    using (var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 }))
    {
        var tokens = new List<int>();
        var logProbabilities = new List<string>();
        var alternatives = new List<string>();
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(
            prompt,
            new LlamaGenerationOptions { MaxTokens = 24, Sampling = LlamaSamplingOptions.Greedy, LogProbabilities = true, TopLogProbabilities = 3 }))
        {
            if (update.TokenId is int token)
            {
                tokens.Add(token);
                logProbabilities.Add(update.LogProbability!.Value.ToString("F5", CultureInfo.InvariantCulture));
                alternatives.Add(string.Join("|", update.TopLogProbabilities!.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.TokenId} {a.LogProbability:F5}"))));
            }
        }

        Console.WriteLine($"tokens: {string.Join(",", tokens)}");
        Console.WriteLine($"log-probabilities: {string.Join(",", logProbabilities)}");
        Console.WriteLine($"top three: {string.Join(";", alternatives)}");
    }

    if (templatePath is null)
    {
        return 0;
    }

    LlamaChatTemplate template = LlamaChatTemplate.FromText(File.ReadAllText(templatePath));
    string rendered = template.Apply(
    [
        LlamaChatMessage.System("You are terse."),
        LlamaChatMessage.User("Héllo 🦙, what is 2 + 2?"),
        LlamaChatMessage.Assistant("4."),
        LlamaChatMessage.User("And 3 + 3?"),
    ]);
    Console.WriteLine($"rendered: {JsonSerializer.Serialize(rendered)}");

    using var chat = new LlamaChatClient(model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 1 } });
    AIFunction weather = AIFunctionFactory.Create(([Description("The city")] City city) => "sunny", "get_weather", "Gets the weather in a city");
    ChatResponse response = await chat.GetResponseAsync(
        "What is the weather in Oslo?",
        new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("get_weather"), MaxOutputTokens = 200, Temperature = 0.8f, Seed = 3 });
    FunctionCallContent call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().SingleOrDefault()
        ?? throw new InvalidOperationException($"No tool call ({response.FinishReason}): {JsonSerializer.Serialize(response.Text)}");
    Console.WriteLine($"tool call: {call.Name} {JsonSerializer.Serialize(call.Arguments)}");
    return 0;
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex);
    return 1;
}

/// <summary>An enum argument keeps a random-weight model's call short: free text would run to the token limit.</summary>
internal enum City
{
    Oslo,
    Paris,
    Lima,
}
