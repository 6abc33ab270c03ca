using LocalLlm.Tests.Inference;

namespace LocalLlm.Tests.Chat;

public sealed class LlamaChatSessionTests : TinyModelFixture
{
    [Test]
    public async Task EachTurn_EvaluatesOnlyTheNewMessages()
    {
        using var chat = new LlamaChatSession(Model, new LlamaChatSessionOptions
        {
            Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 },
            SystemPrompt = "You are a helpful llama.",
        });
        var options = Greedy(12);

        string first = await Collect(chat.SendAsync("What do llamas eat?", options));
        LlamaUsage firstUsage = chat.Session.LastUsage!;
        string second = await Collect(chat.SendAsync("And where do they live?", options));
        LlamaUsage secondUsage = chat.Session.LastUsage!;

        Assert.That(chat.History.Select(m => m.Role), Is.EqualTo(new[] { "system", "user", "assistant", "user", "assistant" }));
        Assert.That(chat.History[2].Content, Is.EqualTo(first));
        Assert.That(chat.History[4].Content, Is.EqualTo(second));
        Assert.That(secondUsage.CachedPromptTokens, Is.GreaterThanOrEqualTo(firstUsage.PromptTokens), "the whole first turn stayed in the KV cache");
        int newTurnTokens = Model.Tokenizer.Tokenize(chat.Template.Apply([LlamaChatMessage.User("And where do they live?")]), addSpecial: false, parseSpecial: true).Length;
        Assert.That(secondUsage.EvaluatedPromptTokens, Is.LessThanOrEqualTo(newTurnTokens + 8), "only the reply's end and the new user turn were evaluated");
    }

    [Test]
    public async Task WhenTheConversationOutgrowsTheContext_TheOldestTurnsAreDroppedAndTheSystemMessageKept()
    {
        using var chat = new LlamaChatSession(Model, new LlamaChatSessionOptions
        {
            Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 },
            SystemPrompt = "Be brief.",
        });
        string longMessage = string.Concat(Enumerable.Repeat("Tell me more about the mountains. ", 8));

        for (int turn = 0; turn < 6; turn++)
        {
            await Collect(chat.SendAsync(longMessage, Greedy(16)));
        }

        Assert.That(chat.History[0], Is.EqualTo(LlamaChatMessage.System("Be brief.")));
        Assert.That(chat.History.Count, Is.LessThan(1 + (6 * 2)), "old turns were dropped");
        Assert.That(chat.History[^1].Role, Is.EqualTo("assistant"));
        Assert.That(chat.Session.LastUsage!.PromptTokens + 16, Is.LessThanOrEqualTo(chat.Session.ContextSize));
    }

    [Test]
    public async Task UnderTheFailPolicy_AnOversizedConversationThrows()
    {
        using var chat = new LlamaChatSession(Model, new LlamaChatSessionOptions
        {
            Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 },
            HistoryPolicy = LlamaChatHistoryPolicy.Fail,
        });
        string longMessage = string.Concat(Enumerable.Repeat("Tell me more about the mountains. ", 8));

        var ex = Assert.ThrowsAsync<LlamaContextOverflowException>(async () =>
        {
            for (int turn = 0; turn < 6; turn++)
            {
                await Collect(chat.SendAsync(longMessage, Greedy(16)));
            }
        });

        Assert.That(ex!.ContextSize, Is.EqualTo(chat.Session.ContextSize));
    }

    private static async Task<string> Collect(IAsyncEnumerable<string> pieces)
    {
        var text = new System.Text.StringBuilder();
        await foreach (string piece in pieces)
        {
            text.Append(piece);
        }

        return text.ToString();
    }

    [Test]
    public async Task ACancelledTurn_LeavesTheHistoryAsItWas_AndTheNextTurnWorks()
    {
        using var chat = new LlamaChatSession(Model, new LlamaChatSessionOptions { Context = new LlamaContextOptions { ContextSize = 512, ThreadCount = 2 } });
        using var cts = new CancellationTokenSource();

        Assert.That(async () =>
        {
            await foreach (string piece in chat.SendAsync("Tell me a long story.", new LlamaGenerationOptions { MaxTokens = 64 }, cts.Token))
            {
                await cts.CancelAsync();
            }
        }, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(chat.History, Is.Empty, "neither the message nor the partial reply joined the history");

        await foreach (string piece in chat.SendAsync("Hi.", new LlamaGenerationOptions { MaxTokens = 4 }))
        {
        }

        Assert.That(chat.History.Select(m => m.Role), Is.EqualTo(new[] { "user", "assistant" }));
    }
}
