using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LocalLlm.Benchmarks;

/// <summary>
/// What chat templating and reply parsing add to a request with tools offered: rendering the model's Jinja template
/// with llama.cpp's chat layer and preparing the turn (per request), and reading a 1,000-token reply into answer,
/// reasoning and tool calls as it streams (per token). llama.cpp's parser reads the whole reply at every token, so a
/// parse per token grows with the reply (quadratic in all); LocalLlm parses in full only around markup. Both are
/// measured on the same reply, token by token, through the same streaming path the session uses.
///   dotnet run -c Release --project tests/LocalLlm.Benchmarks -- --chat [--models 1b] [--reps 5] [--reply-tokens 1000]
/// </summary>
internal static class ChatTemplatingBenchmark
{
    private const string Prose =
        "Llamas are social animals and live with others as a herd. Their wool is soft and contains only a small amount of lanolin. " +
        "Llamas can learn simple tasks after a few repetitions. When using a pack, they can carry about 25 to 30% of their body weight " +
        "for 8 to 13 km (5–8 miles).\n\nThe name llama was adopted by European settlers from native Peruvians. ";

    private static readonly (string Name, string Description, string Schema)[] Tools =
    [
        ("get_weather", "Gets the weather forecast for a city", """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["city"]}"""),
        ("get_time", "Gets the current time in a time zone", """{"type":"object","properties":{"timezone":{"type":"string","description":"An IANA time zone"}},"required":["timezone"]}"""),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        string name = BenchmarkSettings.Option(args, "--models", "1b");
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "5"), CultureInfo.InvariantCulture);
        int replyTokens = int.Parse(BenchmarkSettings.Option(args, "--reply-tokens", "1000"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        using LlamaModel model = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel(name, null), new LlamaModelOptions { VocabularyOnly = true }).ConfigureAwait(false);
        Console.WriteLine($"Chat templating and reply parsing: {name} vocabulary ({model.Tokenizer.VocabularySize} tokens), 2 tools offered, {replyTokens}-token replies, median of {reps}, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        foreach ((string label, string templateFile, bool thinking) in new[]
        {
            ("Qwen2.5 (Hermes tool calls)", "Qwen-Qwen2.5-7B-Instruct.jinja", false),
            ("Qwen3 (thinking + tool calls)", "Qwen-Qwen3-0.6B.jinja", true),
        })
        {
            LlamaChatTemplate template = LlamaChatTemplate.FromText(File.ReadAllText(Path.Combine(LocalLlm.ModelGenerator.GeneratedModels.LlamaCppSourceDirectory, "models", "templates", templateFile)), model);
            ChatTemplateRequest request = Request();
            (int[] reply, int callStart) = Reply(model.Tokenizer, replyTokens, thinking);

            double prepare = Median(reps, () => Time(() => ChatTurn.Prepare(template, model.Tokenizer, request, new LlamaGenerationOptions(), null, 8192, LlamaChatHistoryPolicy.Fail).Dispose()));
            double render = Median(reps, () => Time(() => template.Render(request)));
            PerToken fast = Median(reps, () => Stream(template, model.Tokenizer, request, reply, callStart, parseEveryPiece: false));
            PerToken every = Median(reps, () => Stream(template, model.Tokenizer, request, reply, callStart, parseEveryPiece: true));

            Console.WriteLine();
            Console.WriteLine($"{label}: prompt {model.Tokenizer.Tokenize(template.Render(request).Prompt, addSpecial: true, parseSpecial: true).Length} tokens, reply {reply.Length} tokens");
            Console.WriteLine($"  per request: render {render:F2} ms, render + tokenize + grammar + parser {prepare:F2} ms");
            Console.WriteLine($"  per token (µs), text tokens 1-{callStart}, then the {reply.Length - callStart}-token call");
            Console.WriteLine("                                          first 100  middle 100  last 100 of text   call tokens   mean   full parses");
            Console.WriteLine($"  LocalLlm (full parse only near markup)  {fast.First,9:F1}  {fast.Middle,10:F1}  {fast.Last,17:F1}   {fast.Call,11:F1}  {fast.Mean,5:F1}   {fast.FullParses,6}");
            Console.WriteLine($"  parse at every token (llama-server)     {every.First,9:F1}  {every.Middle,10:F1}  {every.Last,17:F1}   {every.Call,11:F1}  {every.Mean,5:F1}   {every.FullParses,6}");
            Console.WriteLine($"  text, last 100 / first 100: LocalLlm {fast.Last / fast.First:F2}, every token {every.Last / every.First:F2}; whole reply {fast.TotalMs:F1} ms vs {every.TotalMs:F1} ms");
        }

        return 0;
    }

    private static ChatTemplateRequest Request() => new()
    {
        Messages = [LlamaChatMessage.System("You are a helpful assistant."), LlamaChatMessage.User("Tell me about llamas, then check the weather in Cusco.")],
        Tools = [.. Tools.Select(t => new LlamaChatTool(t.Name, t.Description, JsonDocument.Parse(t.Schema).RootElement))],
        ParallelToolCalls = true,
    };

    // About replyTokens tokens of prose (half of it reasoning when thinking), then a tool call; and where the call starts.
    private static (int[] Tokens, int CallStart) Reply(LlamaTokenizer tokenizer, int replyTokens, bool thinking)
    {
        const string call = "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Cusco\", \"days\": 3}}\n</tool_call>";
        int callTokens = tokenizer.Tokenize(call, addSpecial: false, parseSpecial: true).Length;
        var text = new StringBuilder();
        if (thinking)
        {
            text.Append("<think>\n");
        }

        int budget = replyTokens - callTokens;
        while (tokenizer.Tokenize(text.ToString(), addSpecial: false, parseSpecial: true).Length < budget)
        {
            text.Append(Prose);
            if (thinking && text.Length > 0 && !text.ToString().Contains("</think>", StringComparison.Ordinal) && tokenizer.Tokenize(text.ToString(), addSpecial: false).Length > budget / 2)
            {
                text.Append("\n</think>\n\n");
            }
        }

        return (tokenizer.Tokenize(text + call, addSpecial: false, parseSpecial: true), tokenizer.Tokenize(text.ToString(), addSpecial: false, parseSpecial: true).Length);
    }

    private static PerToken Stream(LlamaChatTemplate template, LlamaTokenizer tokenizer, ChatTemplateRequest request, int[] reply, int callStart, bool parseEveryPiece)
    {
        // The turn's own parser streams LocalLlm's way; the baseline gets one that parses every piece.
        using ChatTurn turn = ChatTurn.Prepare(template, tokenizer, request, new LlamaGenerationOptions(), null, 8192, LlamaChatHistoryPolicy.Fail);
        ChatReplyParser parser = parseEveryPiece ? new ChatReplyParser(turn.Rendering, parseToolCalls: true) { ParseEveryPiece = true } : turn.Parser;
        var text = new CompletionText(turn.Generation);
        Span<byte> piece = stackalloc byte[256];
        double[] micros = new double[reply.Length];
        for (int i = 0; i < reply.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            parser.Append(text.Append(reply[i], tokenizer, piece));
            micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        long end = Stopwatch.GetTimestamp();
        parser.Append(text.Flush());
        ChatReply final = parser.Complete(cutOff: false, out string? error);
        if (parser != turn.Parser)
        {
            parser.Dispose();
        }

        double completeMicros = Stopwatch.GetElapsedTime(end).TotalMicroseconds;
        if (error is not null || final.ToolCalls.Count != 1)
        {
            throw new InvalidOperationException($"The benchmark reply did not parse into one call: {error}");
        }

        int window = Math.Min(100, callStart / 3);
        int middle = callStart / 2 - window / 2;
        return new PerToken(
            micros[..window].Average(),
            micros[middle..(middle + window)].Average(),
            micros[(callStart - window)..callStart].Average(),
            micros[callStart..].Average(),
            micros.Average(),
            (micros.Sum() + completeMicros) / 1000,
            parser.FullParses);
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(int reps, Func<double> measure) => Enumerable.Range(0, reps).Select(_ => measure()).Order().ElementAt(reps / 2);

    private static PerToken Median(int reps, Func<PerToken> measure) => Enumerable.Range(0, reps).Select(_ => measure()).OrderBy(r => r.TotalMs).ElementAt(reps / 2);

    private sealed record PerToken(double First, double Middle, double Last, double Call, double Mean, double TotalMs, int FullParses);
}
