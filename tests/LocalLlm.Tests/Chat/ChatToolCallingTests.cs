using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Chat;

/// <summary>
/// Tool calling through Microsoft.Extensions.AI end to end, on a generated model (random weights, Llama 3 tokenizer)
/// carrying Qwen2.5's real chat template (Hermes-style <c>&lt;tool_call&gt;</c> calls).
/// </summary>
public sealed class ChatToolCallingTests() : TemplatedModelFixture("Qwen-Qwen2.5-7B-Instruct.jinja", "qwentmpl")
{
    [TestCase(false)]
    [TestCase(true)]
    public async Task UseFunctionInvocation_WithAToolRequired_CallsTheFunction_RendersItsResult_AndAnswers(bool streaming)
    {
        using var logs = new RecordingLoggerProvider();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var llama = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 2048, ThreadCount = 2 } }, loggerFactory);
        var invocations = new List<string>();
        // An enum argument keeps a random-weight model's call short: free text in a string runs until the token limit.
        AIFunction getTime = AIFunctionFactory.Create(
            ([System.ComponentModel.Description("The time zone")] Zone timezone) =>
            {
                invocations.Add(timezone.ToString());
                return $"It is 12:34 in zone #{invocations.Count}";
            },
            "get_time",
            "Gets the current time in a time zone");
        using IChatClient client = new ChatClientBuilder(llama).UseFunctionInvocation().Build();
        var options = new ChatOptions
        {
            Tools = [getTime],
            ToolMode = ChatToolMode.RequireAny,
            AllowMultipleToolCalls = false,
            MaxOutputTokens = 200,
            Temperature = 0.8f,
            Seed = 7,
        };
        ChatMessage[] question = [new(ChatRole.User, "What time is it in Paris?")];

        ChatResponse response = streaming
            ? await client.GetStreamingResponseAsync(question, options).ToChatResponseAsync()
            : await client.GetResponseAsync(question, options);

        string[] warnings = [.. logs.Records.Where(r => r.Level >= LogLevel.Warning).Select(r => r.Message)];
        Assert.That(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Count(), Is.EqualTo(1), $"one call; warnings: {string.Join(" / ", warnings)}; reply: {response.Messages[0].Text}");
        FunctionCallContent call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        FunctionResultContent result = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single();
        string[] prompts = [.. logs.Records.Where(r => r.Message.StartsWith("Rendered prompt", StringComparison.Ordinal)).Select(r => r.Message)];
        Assert.Multiple(() =>
        {
            Assert.That(invocations, Has.Count.EqualTo(1), "the grammar forced exactly one well-formed call and the function ran");
            Assert.That(call.Name, Is.EqualTo("get_time"));
            Assert.That(call.CallId, Does.StartWith("call_"));
            Assert.That(call.Arguments!["timezone"]?.ToString(), Is.EqualTo(invocations[0]), "the parsed arguments reached the function");
            Assert.That(result.CallId, Is.EqualTo(call.CallId));
            Assert.That(prompts, Has.Length.EqualTo(2), "one request for the call, one for the answer");
            Assert.That(prompts[1], Does.Contain("<tool_call>\n{\"name\": \"get_time\""), "the assistant's call is rendered back through the template");
            Assert.That(prompts[1], Does.Contain("<tool_response>\nIt is 12:34 in zone #1\n</tool_response>"), "the result is rendered back as Qwen2.5 shows tool results");
            Assert.That(response.Messages[^1].Role, Is.EqualTo(ChatRole.Assistant));
            Assert.That(response.Messages[^1].Contents.OfType<FunctionCallContent>(), Is.Empty, "the next turn answers instead of calling again");
            Assert.That(response.Text, Does.Not.Contain("<tool_call>"), "tool-call markup never reaches the caller as text");
        });
    }

    [Test]
    public async Task Streaming_AToolCall_ArrivesAsFunctionCallContentInTheLastUpdate_WithFinishReasonToolCalls()
    {
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 2048, ThreadCount = 2 } });
        AIFunction weather = AIFunctionFactory.Create((Zone city, int days) => "sunny", "get_weather", "Weather forecast");
        var options = new ChatOptions
        {
            Tools = [weather],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
            AllowMultipleToolCalls = false,
            MaxOutputTokens = 200,
            Temperature = 0.8f,
            Seed = 3,
        };
        var updates = new List<ChatResponseUpdate>();

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync("Weather in Oslo?", options))
        {
            updates.Add(update);
        }

        FunctionCallContent call = updates[^1].Contents.OfType<FunctionCallContent>().Single();
        Assert.Multiple(() =>
        {
            Assert.That(updates[^1].FinishReason, Is.EqualTo(ChatFinishReason.ToolCalls));
            Assert.That(updates.Take(updates.Count - 1).SelectMany(u => u.Contents).OfType<FunctionCallContent>(), Is.Empty);
            Assert.That(string.Concat(updates.Select(u => u.Text)), Does.Not.Contain("<tool_call>").And.Not.Contain("\"arguments\""));
            Assert.That(call.Name, Is.EqualTo("get_weather"));
            Assert.That(call.Arguments!.Keys, Is.EquivalentTo(new[] { "city", "days" }), "the grammar made the arguments match the function's schema");
            Assert.That(call.Arguments["days"]?.ToString(), Does.Match("^-?[0-9]+$"));
            Assert.That(Enum.GetNames<Zone>(), Does.Contain(call.Arguments["city"]?.ToString()));
        });
    }

    [Test]
    public async Task ToolModeNone_OffersNoCall_AndTheReplyIsText()
    {
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 2048, ThreadCount = 2 } });
        AIFunction weather = AIFunctionFactory.Create((string city) => "sunny", "get_weather");

        ChatResponse response = await client.GetResponseAsync("Weather in Oslo?", new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.None, MaxOutputTokens = 12, Temperature = 0 });

        Assert.That(response.FinishReason, Is.EqualTo(ChatFinishReason.Length));
        Assert.That(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>(), Is.Empty);
        Assert.That(response.Text, Is.Not.Empty);
    }

    [Test]
    public async Task AHistoryWithFunctionCallsAndResults_RendersThroughTheTemplate()
    {
        using var logs = new RecordingLoggerProvider();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 2048, ThreadCount = 2 } }, loggerFactory);
        ChatMessage[] history =
        [
            new(ChatRole.User, "Weather in Oslo?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", new { temperature = -3, sky = "snow" })]),
        ];

        await client.GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 2, Temperature = 0 });

        string prompt = logs.Records.Single(r => r.Message.StartsWith("Rendered prompt", StringComparison.Ordinal)).Message;
        string response = prompt[prompt.IndexOf("<tool_response>", StringComparison.Ordinal)..prompt.IndexOf("</tool_response>", StringComparison.Ordinal)];
        Assert.That(prompt, Does.Contain("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>"));
        Assert.That(response, Does.Contain("\"temperature\": -3").And.Contain("\"sky\": \"snow\""), "the result object, serialised and shown as the template shows tool results");
    }

    /// <summary>Time zones a test function takes.</summary>
    public enum Zone
    {
        Utc,
        Paris,
        Tokyo,
    }
}
