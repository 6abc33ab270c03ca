using System.Text.Json;
using LocalLlm.Tests.Inference;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Chat;

public sealed class LlamaChatClientTests : TinyModelFixture
{
    private static readonly ChatMessage[] Question = [new(ChatRole.System, "You are a llama."), new(ChatRole.User, "What is your name?")];

    private LlamaChatClient CreateClient() => new(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 } });

    [Test]
    public async Task Streaming_YieldsTextThenAFinalUpdateWithFinishReasonUsageAndModelId()
    {
        using LlamaChatClient client = CreateClient();
        var updates = new List<ChatResponseUpdate>();

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Question, new ChatOptions { MaxOutputTokens = 8, Temperature = 0 }))
        {
            updates.Add(update);
        }

        ChatResponseUpdate last = updates[^1];
        UsageContent usage = last.Contents.OfType<UsageContent>().Single();
        Assert.Multiple(() =>
        {
            Assert.That(updates.All(u => u.Role == ChatRole.Assistant), Is.True);
            Assert.That(updates.Take(updates.Count - 1).All(u => u.Text.Length > 0), Is.True);
            Assert.That(last.FinishReason, Is.EqualTo(ChatFinishReason.Length));
            Assert.That(usage.Details.OutputTokenCount, Is.EqualTo(8));
            Assert.That(usage.Details.InputTokenCount, Is.GreaterThan(10));
            Assert.That(updates.Select(u => u.ModelId).Distinct(), Is.EqualTo(new[] { Path.GetFileNameWithoutExtension(Model.Path) }));
            Assert.That(updates.Select(u => u.ResponseId).Distinct().Count(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task GetResponseAsync_ReturnsTheWholeReplyWithUsage()
    {
        using LlamaChatClient client = CreateClient();

        ChatResponse response = await client.GetResponseAsync(Question, new ChatOptions { MaxOutputTokens = 6, Temperature = 0 });

        Assert.That(response.Messages, Has.Count.EqualTo(1));
        Assert.That(response.Text, Is.Not.Empty);
        Assert.That(response.FinishReason, Is.EqualTo(ChatFinishReason.Length));
        Assert.That(response.Usage!.OutputTokenCount, Is.EqualTo(6));
    }

    [Test]
    public async Task TheSameSeed_GivesTheSameReply()
    {
        using LlamaChatClient client = CreateClient();
        var options = new ChatOptions { MaxOutputTokens = 12, Temperature = 1.2f, Seed = 99, TopK = 0 };

        string first = (await client.GetResponseAsync(Question, options)).Text;
        string second = (await client.GetResponseAsync(Question, options.Clone())).Text;

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public async Task AGrammarInAdditionalProperties_ConstrainsTheReply()
    {
        using LlamaChatClient client = CreateClient();
        var options = new ChatOptions { MaxOutputTokens = 10, Seed = 3, AdditionalProperties = new() { ["grammar"] = "root ::= \"yes\" | \"no\"", ["min_p"] = 0.0 } };

        ChatResponse response = await client.GetResponseAsync(Question, options);

        Assert.That(response.Text, Is.AnyOf("yes", "no"));
        Assert.That(response.FinishReason, Is.EqualTo(ChatFinishReason.Stop));
    }

    [Test]
    public async Task JsonResponseFormat_ProducesJson()
    {
        using LlamaChatClient client = CreateClient();
        var options = new ChatOptions { MaxOutputTokens = 40, Seed = 5, Temperature = 0.7f, ResponseFormat = ChatResponseFormat.Json };

        ChatResponse response = await client.GetResponseAsync(Question, options);

        TestContext.Out.WriteLine($"{response.FinishReason}: {response.Text}");
        Assert.That(response.Text, Does.StartWith("{"));
        if (response.FinishReason == ChatFinishReason.Stop)
        {
            Assert.That(() => JsonDocument.Parse(response.Text).Dispose(), Throws.Nothing);
        }
    }

    [Test]
    public async Task ConcurrentRequests_QueueForTheContextAndAllComplete()
    {
        using LlamaChatClient client = CreateClient();
        var options = new ChatOptions { MaxOutputTokens = 5, Temperature = 0 };

        ChatResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.GetResponseAsync(Question, options)));

        Assert.That(responses.Select(r => r.Text).Distinct().Count(), Is.EqualTo(1), "greedy replies to the same question are equal");
        Assert.That(responses.All(r => r.Usage!.OutputTokenCount == 5), Is.True);
    }

    [Test]
    public async Task WithParallelSequences_ConcurrentConversationsAreBatched_AndEachGetsItsOwnReply()
    {
        ChatMessage[][] conversations = new[] { "The llama", "Bread needs", "Once upon a", "In code, add" }.Select(q => new[] { new ChatMessage(ChatRole.User, q) }).ToArray();
        var options = new ChatOptions { MaxOutputTokens = 6, Temperature = 0 };
        using LlamaChatClient sequential = CreateClient();
        string[] expected = new string[conversations.Length];
        for (int i = 0; i < conversations.Length; i++)
        {
            expected[i] = (await sequential.GetResponseAsync(conversations[i], options)).Text;
        }

        using var batched = new LlamaChatClient(Model, new LlamaChatClientOptions { ParallelSequences = 4, Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 } });
        ChatResponse[] responses = await Task.WhenAll(conversations.Select(c => batched.GetResponseAsync(c, options)));

        Assert.That(responses.Select(r => r.Text), Is.EqualTo(expected));
    }

    [Test]
    public async Task WithParallelSequences_TheNextTurnReusesTheConversationsCache()
    {
        using var batched = new LlamaChatClient(Model, new LlamaChatClientOptions { ParallelSequences = 2, Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 } });
        var options = new ChatOptions { MaxOutputTokens = 6, Temperature = 0 };
        List<ChatMessage> conversation = [new(ChatRole.User, "The llama")];

        ChatResponse first = await batched.GetResponseAsync(conversation, options);
        await batched.GetResponseAsync("Something unrelated", options);
        conversation.AddRange(first.Messages);
        conversation.Add(new ChatMessage(ChatRole.User, "And then?"));
        ChatResponse second = await batched.GetResponseAsync(conversation, options);

        Assert.That(first.Usage!.CachedInputTokenCount ?? 0, Is.Zero);
        Assert.That(second.Usage!.CachedInputTokenCount, Is.GreaterThanOrEqualTo(first.Usage.InputTokenCount!.Value), "the whole first turn's prompt came from the cache");
    }

    [Test]
    public async Task CancellingARequestWhileItWaitsInTheQueue_ThrowsAndLeavesTheRunningOneIntact()
    {
        using LlamaChatClient client = CreateClient();

        // A request waits for the running one's generation (not for its reader), so the running one must outlast the wait.
        await using IAsyncEnumerator<ChatResponseUpdate> running = client.GetStreamingResponseAsync(Question, new ChatOptions { MaxOutputTokens = 400, Temperature = 0 }).GetAsyncEnumerator();
        Assert.That(await running.MoveNextAsync(), Is.True);
        using var cts = new CancellationTokenSource();

        Task<ChatResponse> queued = client.GetResponseAsync(Question, new ChatOptions { MaxOutputTokens = 5 }, cts.Token);
        await Task.Delay(50);
        Assert.That(queued.IsCompleted, Is.False, "the second request waits for the first");
        await cts.CancelAsync();

        Assert.That(async () => await queued, Throws.InstanceOf<OperationCanceledException>());
        int more = 0;
        while (await running.MoveNextAsync())
        {
            more++;
        }

        Assert.That(more, Is.GreaterThan(0));
    }

    [Test]
    public void ANullMessage_IsAnArgumentErrorNamingTheMessages()
    {
        using LlamaChatClient client = CreateClient();

        var ex = Assert.Throws<ArgumentNullException>(() => client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi"), null!]));

        Assert.That(ex!.ParamName, Is.EqualTo("messages"));
    }

    [Test]
    public async Task DisposingTheClientWhileItStreams_EndsTheStreamAsDisposed()
    {
        LlamaChatClient client = CreateClient();
        int received = 0;

        Assert.That(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Question, new ChatOptions { MaxOutputTokens = 500, Temperature = 0 }))
            {
                if (++received == 3)
                {
                    await Task.Run(client.Dispose);
                }
            }
        }, Throws.InstanceOf<ObjectDisposedException>().With.Message.Contains("LlamaChatClient"));
    }

    [Test]
    public async Task CancellingWhileGenerating_ThrowsOperationCanceled()
    {
        using LlamaChatClient client = CreateClient();
        using var cts = new CancellationTokenSource();

        Assert.That(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Question, new ChatOptions { MaxOutputTokens = 500, Temperature = 0 }, cts.Token))
            {
                await cts.CancelAsync();
            }
        }, Throws.InstanceOf<OperationCanceledException>());

        Assert.That((await client.GetResponseAsync(Question, new ChatOptions { MaxOutputTokens = 2 })).Usage!.OutputTokenCount, Is.EqualTo(2));
    }

    [Test]
    public async Task ComposesWithLoggingOpenTelemetryAndFunctionInvocation()
    {
        var log = new RecordingLoggerProvider();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Trace));
        using LlamaChatClient inner = CreateClient();
        using IChatClient client = new ChatClientBuilder(inner)
            .UseLogging(loggerFactory)
            .UseOpenTelemetry(loggerFactory, sourceName: "LocalLlm.Tests")
            .UseFunctionInvocation(loggerFactory)
            .Build();
        var options = new ChatOptions
        {
            MaxOutputTokens = 4,
            Temperature = 0,
            Tools = [AIFunctionFactory.Create(() => "sunny", "get_weather", "Gets the weather")],
        };

        ChatResponse response = await client.GetResponseAsync(Question, options);

        Assert.That(response.Usage!.OutputTokenCount, Is.EqualTo(4));
        Assert.That(client.GetService<LlamaModel>(), Is.SameAs(Model));
        Assert.That(client.GetService<ChatClientMetadata>()!.ProviderName, Is.EqualTo("LocalLlm"));
        Assert.That(log.Records.Where(r => r.Category.Contains("LoggingChatClient", StringComparison.Ordinal)), Is.Not.Empty);
    }

    [Test]
    public void ImageContent_IsRejectedClearly()
    {
        using LlamaChatClient client = CreateClient();
        ChatMessage withImage = new(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);

        var ex = Assert.Throws<NotSupportedException>(() => client.GetStreamingResponseAsync([withImage]));

        Assert.That(ex!.Message, Does.Contain("DataContent"));
    }

    [Test]
    public void InvalidSamplingValue_ThrowsNamingIt()
    {
        using LlamaChatClient client = CreateClient();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => client.GetStreamingResponseAsync(Question, new ChatOptions { TopP = 1.5f }));

        Assert.That(ex!.Message, Does.Contain("1.5"));
    }
}
