// A console chat on the Generic Host: AddLocalLlm registers an IChatClient, and each reply is streamed as it arrives.
// When the model's chat template can show it tools, it is offered two (the current time, a calculator) and
// UseFunctionInvocation runs the calls it makes; each call and its result are shown, and reasoning is shown dimmed.
//
//   dotnet run --project samples/Chat -- [--model path/to/model.gguf | hf:owner/repo[:Q4_K_M]] [--system "You are a terse assistant."] [--context 4096] [--no-tools]
//   printf 'hello\n/stats\n/exit\n' | dotnet run --project samples/Chat      # input may be piped
//
// Commands: /reset forgets the conversation, /stats shows tokens, speed and context used, /exit quits (so does the
// end of input). Ctrl+C stops the reply being written, not the program.
using System.Globalization;
using LocalLlm;
using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

const string Usage = "Usage: Chat [--model <path.gguf>] [--system \"<prompt>\"] [--context <tokens>] [--no-tools]";
string? modelPath = null;
string? systemPrompt = null;
int? contextSize = null;
bool toolsWanted = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model" when i + 1 < args.Length: modelPath = args[++i]; break;
        case "--system" when i + 1 < args.Length: systemPrompt = args[++i]; break;
        case "--context" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out int tokens): contextSize = tokens; i++; break;
        case "--no-tools": toolsWanted = false; break;
        default:
            Console.Error.WriteLine($"Unexpected argument, or a missing or invalid value: '{args[i]}'. {Usage}");
            return 2;
    }
}

if (modelPath is null)
{
    modelPath = GeneratedModels.Ensure(ModelShape.Tiny);
    AnsiConsole.MarkupLine("[yellow]No --model given: using a generated model with random weights, so its replies are nonsense. Chat with a real one: --model path/to/model.gguf[/]");
}

if (LlamaModelReference.TryParse(modelPath, out LlamaModelReference? reference, out _) && reference.IsRemote)
{
    try
    {
        modelPath = await ModelDownload.ResolveAsync(modelPath, CancellationToken.None);
    }
    catch (Exception ex) when (ex is LlamaModelDownloadException or ArgumentException)
    {
        AnsiConsole.MarkupLine($"[red]{Markup.Escape(ex.Message)}[/]");
        return 1;
    }
}

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("LocalLlm.LlamaCpp", LogLevel.None);              // llama.cpp's own log; failures arrive as exceptions
builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);   // a failed start is reported below, without a stack trace
builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
builder.Services.AddLocalLlm(o =>
{
    o.ModelPath = modelPath;
    o.ContextSize = contextSize;
    o.WarmUp = true;                                                         // load while the host starts, under the spinner
});
using IHost host = builder.Build();

LlamaChatTemplate startTemplate;
try
{
    await AnsiConsole.Status().StartAsync($"Loading {Path.GetFileName(modelPath)}...", _ => host.StartAsync());
    // The chat client renders with the model's own template (this sample names no other), but only reads it on the
    // first request; reading it here too tells us now whether the model can be offered tools.
    startTemplate = LlamaChatTemplate.FromModel(host.Services.GetRequiredService<LlamaModel>());
}
catch (Exception ex) when (ex is OptionsValidationException or LlamaException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

// The function-invoking client runs the tool calls the model makes and sends their results back for its answer.
IChatClient llama = host.Services.GetRequiredService<IChatClient>();
IChatClient chat = new ChatClientBuilder(llama).UseFunctionInvocation().Build();
LlamaChatClient? llamaClient = chat.GetService<LlamaChatClient>();
LlamaModelMetadata metadata = host.Services.GetRequiredService<LlamaModel>().Metadata;
int context = contextSize ?? Math.Min(metadata.TrainedContextLength, LlamaContextOptions.DefaultContextSizeLimit);
AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]{metadata.Architecture} model, {metadata.ParameterCount:N0} parameters, {context}-token context. Commands: /reset /stats /exit; Ctrl+C stops a reply.[/]");
AnsiConsole.MarkupLine(
    !toolsWanted ? "[grey]Tools off (--no-tools).[/]"
    : startTemplate.SupportsTools ? $"[grey]Tools on: {string.Join(", ", DemoTools.All.Select(t => t.Name))} (--no-tools turns them off).[/]"
    : "[grey]Tools off: this model's chat template cannot show it tools.[/]");
var toolOptions = new ChatOptions { Tools = DemoTools.All, ToolMode = ChatToolMode.Auto };

// The whole conversation goes to the client each turn; it re-evaluates only what follows the prefix it has cached.
List<ChatMessage> history = StartConversation(systemPrompt);
var gate = new Lock();
CancellationTokenSource? reply = null;
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;                                                         // stop the reply, keep the program
    lock (gate)
    {
        reply?.Cancel();
    }
};

while (true)
{
    AnsiConsole.Markup("[bold blue]you>[/] ");
    string? line = Console.ReadLine()?.Trim();
    if (Console.IsInputRedirected)
    {
        Console.WriteLine(line);                                             // echo piped input so the transcript reads well
    }

    if (line is null or "/exit")
    {
        break;
    }

    switch (line)
    {
        case "":
            continue;
        case "/reset":
            history = StartConversation(systemPrompt);
            AnsiConsole.MarkupLine("[grey]Conversation cleared.[/]");
            continue;
        case "/stats":
            Stats.Show(chat.GetService<LlamaChatClient>()?.LastUsage, context, history.Count);
            continue;
        case ['/', ..]:
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]Unknown command {line}.[/] Commands: /reset /stats /exit");
            continue;
    }

    history.Add(new ChatMessage(ChatRole.User, line));
    AnsiConsole.Markup("[bold green]llm>[/] ");
    // Decided per request from the template the client uses (set once the first request has loaded it).
    ChatOptions? options = toolsWanted && (llamaClient?.Template ?? startTemplate).SupportsTools ? toolOptions : null;
    var writer = new ReplyWriter();
    using (var cancellation = new CancellationTokenSource())
    {
        lock (gate)
        {
            reply = cancellation;
        }

        try
        {
            await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync(history, options, cancellation.Token))
            {
                writer.Write(update);
            }
        }
        catch (OperationCanceledException)
        {
            writer.Stopped();
        }
        finally
        {
            lock (gate)
            {
                reply = null;
            }
        }
    }

    writer.Finish();
    history.AddRange(writer.ToMessages());                                   // what was shown, even if stopped early
}

await host.StopAsync();
return 0;

static List<ChatMessage> StartConversation(string? systemPrompt) =>
    systemPrompt is null ? [] : [new ChatMessage(ChatRole.System, systemPrompt)];
