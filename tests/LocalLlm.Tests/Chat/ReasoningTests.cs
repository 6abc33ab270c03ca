using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Chat;

/// <summary>
/// Reasoning through <see cref="IChatClient"/> on a generated model (random weights) carrying DeepSeek R1's chat
/// template, which opens the reasoning block itself (the prompt ends in <c>&lt;think&gt;</c>); the reasoning budget
/// then decides where it closes.
/// </summary>
public sealed class ReasoningTests() : TemplatedModelFixture("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "r1tmpl")
{
    [Test]
    public async Task ThinkingStreamsAsTextReasoningContent_ApartFromTheAnswer_AndIsCounted()
    {
        using LlamaChatClient client = CreateClient(out _);
        var options = new ChatOptions { MaxOutputTokens = 40, Temperature = 0.8f, Seed = 5, AdditionalProperties = new() { ["reasoning_budget_tokens"] = 10 } };
        var updates = new List<ChatResponseUpdate>();

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync("Why is the sky blue?", options))
        {
            updates.Add(update);
        }

        int firstAnswer = updates.FindIndex(u => u.Contents.OfType<TextContent>().Any(t => t.Text.Length > 0));
        int lastReasoning = updates.FindLastIndex(u => u.Contents.OfType<TextReasoningContent>().Any());
        string reasoning = string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text));
        string answer = string.Concat(updates.Select(u => u.Text));
        UsageDetails usage = updates[^1].Contents.OfType<UsageContent>().Single().Details;
        int endTagTokens = Model.Tokenizer.Tokenize("</think>", addSpecial: false, parseSpecial: true).Length;
        Assert.Multiple(() =>
        {
            Assert.That(reasoning, Is.Not.Empty);
            Assert.That(answer, Is.Not.Empty, "the budget closed the reasoning and the answer followed");
            Assert.That(lastReasoning, Is.LessThan(firstAnswer), "reasoning comes first, then the answer");
            Assert.That(reasoning + answer, Does.Not.Contain("<think>").And.Not.Contain("</think>"));
            Assert.That(usage.ReasoningTokenCount, Is.InRange(10, 10 + endTagTokens + 1), "ten tokens of reasoning, then the forced end tag");
            Assert.That(usage.OutputTokenCount, Is.EqualTo(40));
        });
    }

    [Test]
    public async Task TheFinalResponse_HoldsTheReasoningAndTheAnswerApart()
    {
        using LlamaChatClient client = CreateClient(out _);

        ChatResponse response = await client.GetResponseAsync("Why?", new ChatOptions { MaxOutputTokens = 30, Seed = 1, Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Low }, AdditionalProperties = new() { ["reasoning_budget_tokens"] = 6 } });

        ChatMessage message = response.Messages.Single();
        Assert.That(message.Contents.OfType<TextReasoningContent>().Single().Text, Is.Not.Empty);
        Assert.That(message.Text, Is.Not.Empty.And.Not.Contain("</think>"));
        Assert.That(response.Usage!.ReasoningTokenCount, Is.GreaterThanOrEqualTo(6));
    }

    [Test]
    public async Task EffortNone_TurnsTheTemplatesThinkingOff()
    {
        using LlamaChatClient client = CreateClient(out RecordingLoggerProvider logs);

        ChatResponse response = await client.GetResponseAsync("Why?", new ChatOptions { MaxOutputTokens = 8, Seed = 1, Reasoning = new ReasoningOptions { Effort = ReasoningEffort.None } });

        string prompt = logs.Records.Single(r => r.Message.StartsWith("Rendered prompt", StringComparison.Ordinal)).Message;
        Assert.That(prompt, Does.EndWith("<｜Assistant｜><think>\n</think>"), "DeepSeek R1's template closes the block at once when thinking is off");
        Assert.That(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>(), Is.Empty);
        Assert.That(response.Usage!.ReasoningTokenCount, Is.Zero);
    }

    [Test]
    public async Task EnableThinkingFalse_AmongTheClientsTemplateVariables_TurnsThinkingOff_EvenWithoutChatOptions()
    {
        var logs = new RecordingLoggerProvider();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var options = new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 }, DefaultMaxOutputTokens = 4 };
        options.TemplateVariables["enable_thinking"] = false;
        using var client = new LlamaChatClient(Model, options, loggerFactory);

        ChatResponse response = await client.GetResponseAsync("Why?");

        Assert.That(logs.Records.Single(r => r.Message.StartsWith("Rendered prompt", StringComparison.Ordinal)).Message, Does.EndWith("<think>\n</think>"));
        Assert.That(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>(), Is.Empty, "the parser knows thinking is off");
    }

    [TestCase(1.5)]
    [TestCase(1e12)]
    [TestCase("many")]
    public void AReasoningBudgetThatIsNoWholeNumber_ThrowsArgumentException(object budget)
    {
        using LlamaChatClient client = CreateClient(out _);

        var ex = Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync("Why?", new ChatOptions { AdditionalProperties = new() { ["reasoning_budget_tokens"] = budget } }));

        Assert.That(ex!.Message, Does.Contain("reasoning_budget_tokens"));
    }

    [Test]
    public async Task AReasoningBudgetAsADoubleOrAString_IsTaken()
    {
        using LlamaChatClient client = CreateClient(out _);

        ChatResponse fromDouble = await client.GetResponseAsync("Why?", new ChatOptions { MaxOutputTokens = 12, Seed = 3, AdditionalProperties = new() { ["reasoning_budget_tokens"] = 3.0 } });
        ChatResponse fromString = await client.GetResponseAsync("Why?", new ChatOptions { MaxOutputTokens = 12, Seed = 3, AdditionalProperties = new() { ["reasoning_budget_tokens"] = "3" } });

        Assert.That(fromDouble.Usage!.ReasoningTokenCount, Is.InRange(3, 8));
        Assert.That(fromString.Usage!.ReasoningTokenCount, Is.InRange(3, 8));
    }

    [Test]
    public async Task ReasoningOutputNone_LeavesTheReasoningOutOfTheResponse()
    {
        using LlamaChatClient client = CreateClient(out _);
        var options = new ChatOptions
        {
            MaxOutputTokens = 20,
            Seed = 2,
            Reasoning = new ReasoningOptions { Output = ReasoningOutput.None },
            AdditionalProperties = new() { ["reasoning_budget_tokens"] = 5 },
        };

        ChatResponse response = await client.GetResponseAsync("Why?", options);

        Assert.That(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>(), Is.Empty);
        Assert.That(response.Usage!.ReasoningTokenCount, Is.GreaterThanOrEqualTo(5), "the model still reasoned");
    }

    [Test]
    public async Task AChatSession_KeepsTheReasoningInItsHistory()
    {
        using var chat = new LlamaChatSession(Model, new LlamaChatSessionOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 }, ReasoningBudget = 4 });
        var reasoning = new System.Text.StringBuilder();
        var answer = new System.Text.StringBuilder();

        await foreach (LlamaChatUpdate update in chat.StreamAsync(LlamaChatMessage.User("Why?"), new LlamaGenerationOptions { MaxTokens = 16 }))
        {
            reasoning.Append(update.Reasoning);
            answer.Append(update.Text);
        }

        LlamaChatMessage reply = chat.History[^1];
        Assert.That(reply.Role, Is.EqualTo("assistant"));
        Assert.That(reply.ReasoningContent, Is.EqualTo(reasoning.ToString()).And.Not.Empty);
        Assert.That(reply.Content, Is.EqualTo(answer.ToString()));
    }

    private LlamaChatClient CreateClient(out RecordingLoggerProvider logs)
    {
        var provider = new RecordingLoggerProvider();
        logs = provider;
        ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        return new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 } }, loggerFactory);
    }
}
