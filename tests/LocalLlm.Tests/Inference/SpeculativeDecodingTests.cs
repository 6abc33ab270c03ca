using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;

namespace LocalLlm.Tests.Inference;

/// <summary>
/// Speculative decoding by prompt lookup: exactly the tokens of a run without it (greedy and seeded, several prompts and
/// lengths, streamed, cancelled, side by side on a scheduler, through the chat client), in fewer decodes where drafts
/// are kept. The tiny model's greedy continuations repeat themselves, which is where lookup finds drafts.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class SpeculativeDecodingTests
{
    private static readonly string[] Prompts =
    [
        "The llama walks across the high plateau",
        "Once upon a time, in a small village, there lived a llama. Once upon a time, in a small village,",
        "1, 2, 3, 4, 1, 2, 3, 4, 1, 2,",
    ];

    private LlamaModel _model = null!;

    [OneTimeSetUp]
    public async Task Load() => _model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));

    [OneTimeTearDown]
    public void Free() => _model?.Dispose();

    [TestCase(8)]
    [TestCase(40)]
    [TestCase(120)]
    public async Task GreedyTokens_AreTheSameWithAndWithoutSpeculation(int length)
    {
        using var session = new LlamaSession(_model, Context());
        int accepted = 0;
        foreach (string prompt in Prompts)
        {
            session.Reset();
            LlamaCompletion plain = await session.CompleteAsync(prompt, Options(length, LlamaSamplingOptions.Greedy, speculate: false));
            session.Reset();
            LlamaCompletion speculated = await session.CompleteAsync(prompt, Options(length, LlamaSamplingOptions.Greedy, speculate: true));

            Assert.That(speculated.TokenIds, Is.EqualTo(plain.TokenIds), $"'{prompt}', {length} tokens");
            Assert.That(speculated.Text, Is.EqualTo(plain.Text));
            accepted += speculated.Usage.AcceptedDraftTokens;
            TestContext.Out.WriteLine($"{length} tokens, '{prompt}': drafted {speculated.Usage.DraftTokens}, kept {speculated.Usage.AcceptedDraftTokens}");
        }

        if (length >= 40)
        {
            Assert.That(accepted, Is.GreaterThan(0), "drafts were kept, so speculation really ran");
        }
    }

    [Test]
    public async Task SeededSampling_DrawsOncePerToken_AsWithoutSpeculation()
    {
        // Each position is sampled with the sampler's next draw, as without a draft, so a seeded run follows the same
        // draws. The logits of a multi-token decode can differ from a one-token decode's in the last bits (2e-4 in
        // a log-probability here, as in llama.cpp's own speculative decoding), which moves a draw only where two
        // tokens nearly tie: the runs agree until then (on two of these prompts, all 60 tokens), and each is reproducible.
        LlamaSamplingOptions sampled = LlamaSampling.Create().Temperature(0.7f).TopK(40).Seed(1234).Build();
        using var session = new LlamaSession(_model, Context());
        int agreeing = 0;
        foreach (string prompt in Prompts)
        {
            session.Reset();
            LlamaCompletion plain = await session.CompleteAsync(prompt, Options(60, sampled, speculate: false));
            session.Reset();
            LlamaCompletion speculated = await session.CompleteAsync(prompt, Options(60, sampled, speculate: true));
            session.Reset();
            LlamaCompletion again = await session.CompleteAsync(prompt, Options(60, sampled, speculate: true));

            Assert.That(again.TokenIds, Is.EqualTo(speculated.TokenIds), $"reproducible: '{prompt}'");
            Assert.That(speculated.TokenIds.Take(4), Is.EqualTo(plain.TokenIds.Take(4)), $"the same draws: '{prompt}'");
            agreeing += speculated.TokenIds.SequenceEqual(plain.TokenIds) ? 1 : 0;
        }

        Assert.That(agreeing, Is.GreaterThanOrEqualTo(1), "whole runs agree where no draw falls on a near tie");
    }

    [Test]
    public async Task Streaming_DeliversEveryTokenInOrder_AndCancellingKeepsTheSessionExact()
    {
        using var session = new LlamaSession(_model, Context());
        LlamaCompletion plain = await session.CompleteAsync(Prompts[2], Options(80, LlamaSamplingOptions.Greedy, speculate: false));
        session.Reset();
        var streamed = new List<int>();
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompts[2], Options(80, LlamaSamplingOptions.Greedy, speculate: true)))
        {
            if (update.TokenId is { } token)
            {
                streamed.Add(token);
            }
        }

        Assert.That(streamed, Is.EqualTo(plain.TokenIds), "one update per token, several per decode when drafts are kept");

        session.Reset();
        using var cancel = new CancellationTokenSource();
        var beforeCancel = new List<int>();
        Assert.That(async () =>
        {
            await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompts[2], Options(80, LlamaSamplingOptions.Greedy, speculate: true), cancel.Token))
            {
                if (update.TokenId is { } token)
                {
                    beforeCancel.Add(token);
                }

                if (beforeCancel.Count >= 10)
                {
                    await cancel.CancelAsync();
                }
            }
        }, Throws.InstanceOf<OperationCanceledException>());

        Assert.That(beforeCancel, Is.EqualTo(plain.TokenIds.Take(beforeCancel.Count)));
        session.Reset();
        LlamaCompletion after = await session.CompleteAsync(Prompts[2], Options(80, LlamaSamplingOptions.Greedy, speculate: true));
        Assert.That(after.TokenIds, Is.EqualTo(plain.TokenIds), "the KV cache held nothing a rejected draft left behind");
    }

    [Test]
    public async Task TheScheduler_SpeculatesForSomeRequests_BesideOthers()
    {
        var alone = new List<IReadOnlyList<int>>();
        using (var session = new LlamaSession(_model, Context()))
        {
            foreach (string prompt in Prompts)
            {
                session.Reset();
                alone.Add((await session.CompleteAsync(prompt, Options(60, LlamaSamplingOptions.Greedy, speculate: false))).TokenIds);
            }
        }

        using var scheduler = new LlamaScheduler(_model, new LlamaSchedulerOptions { ParallelSequences = 3, ContextSizePerSequence = 512, ThreadCount = 1 });
        LlamaCompletion[] together = await Task.WhenAll(Prompts.Select((p, i) => scheduler.CompleteAsync(p, Options(60, LlamaSamplingOptions.Greedy, speculate: i != 0))));

        Assert.That(together.Select(c => c.TokenIds), Is.EqualTo(alone));
        Assert.That(together[0].Usage.DraftTokens, Is.Zero);
    }

    [Test]
    public async Task TheChatClient_TakesSpeculationPerRequest()
    {
        using var chat = new LlamaChatClient(_model, new LlamaChatClientOptions { Context = Context() });
        ChatResponse plain = await chat.GetResponseAsync("Count: 1, 2, 3, 1, 2, 3, 1, 2, 3", new ChatOptions { Temperature = 0, MaxOutputTokens = 40 });
        ChatResponse speculated = await chat.GetResponseAsync("Count: 1, 2, 3, 1, 2, 3, 1, 2, 3", new ChatOptions { Temperature = 0, MaxOutputTokens = 40, AdditionalProperties = new() { ["speculation"] = new LlamaSpeculationOptions() } });

        Assert.That(speculated.Text, Is.EqualTo(plain.Text));
    }

    [TestCase(8)]
    [TestCase(60)]
    public async Task ADraftModel_GivesTheTargetsGreedyTokens_InFewerDecodes(int length)
    {
        // The target as its own draft (a second load of the same file): every greedy draft token is the target's own
        // choice, so almost every draft is kept, which shows the draft path carries its tokens through exactly.
        using LlamaModel draft = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));
        using var session = new LlamaSession(_model, Context());
        var options = new LlamaSpeculationOptions { DraftModel = draft, MaxDraftTokens = 4 };
        foreach (string prompt in Prompts)
        {
            session.Reset();
            LlamaCompletion plain = await session.CompleteAsync(prompt, Options(length, LlamaSamplingOptions.Greedy, speculate: false));
            session.Reset();
            LlamaCompletion drafted = await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = length, Sampling = LlamaSamplingOptions.Greedy, Speculation = options });

            TestContext.Out.WriteLine($"self-draft '{prompt}' {length}: drafted {drafted.Usage.DraftTokens}, kept {drafted.Usage.AcceptedDraftTokens}; tokens [{string.Join(',', plain.TokenIds.Take(16))}]");
            Assert.That(drafted.TokenIds, Is.EqualTo(plain.TokenIds), prompt);
            Assert.That(drafted.Usage.AcceptedDraftTokens, Is.GreaterThan(drafted.Usage.DraftTokens / 2), $"a self-draft is mostly kept ({drafted.Usage.AcceptedDraftTokens} of {drafted.Usage.DraftTokens})");
        }
    }

    [Test]
    public async Task ADraftModel_OnAVariedContinuation_KeepsNearlyEveryDraftOfItself()
    {
        // The tiny model's greedy replies repeat one token, which hides a draft taken from the wrong place; the 1b
        // model's vary. Plain kernels, so a one-token and a multi-token decode sum alike.
        string path = GeneratedModels.Ensure(ModelShape.OneB, new LlamaCppQuantizer(LlamaQuantizationType.Q4_0));
        using LlamaModel oneB = await LlamaModel.LoadAsync(path, new LlamaModelOptions { RepackWeights = false });
        using var session = new LlamaSession(oneB, new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 });
        LlamaCompletion plain = await session.CompleteAsync(Prompts[0], Options(24, LlamaSamplingOptions.Greedy, speculate: false));
        session.Reset();
        LlamaCompletion drafted = await session.CompleteAsync(Prompts[0], new LlamaGenerationOptions { MaxTokens = 24, Sampling = LlamaSamplingOptions.Greedy, Speculation = new LlamaSpeculationOptions { DraftModel = oneB, MaxDraftTokens = 4 } });

        Assert.That(plain.TokenIds.Distinct().Count(), Is.GreaterThan(8), "a varied continuation");
        Assert.That(drafted.TokenIds, Is.EqualTo(plain.TokenIds));
        Assert.That(drafted.Usage.AcceptedDraftTokens, Is.GreaterThanOrEqualTo(drafted.Usage.DraftTokens * 0.8), $"kept {drafted.Usage.AcceptedDraftTokens} of {drafted.Usage.DraftTokens}");
    }

    [Test]
    public async Task ADraftModel_OnTheScheduler_ServesTwoRequestsBesideAPlainOne()
    {
        using LlamaModel draft = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));
        var alone = new List<IReadOnlyList<int>>();
        using (var session = new LlamaSession(_model, Context()))
        {
            foreach (string prompt in Prompts)
            {
                session.Reset();
                alone.Add((await session.CompleteAsync(prompt, Options(40, LlamaSamplingOptions.Greedy, speculate: false))).TokenIds);
            }
        }

        using var scheduler = new LlamaScheduler(_model, new LlamaSchedulerOptions { ParallelSequences = 3, ContextSizePerSequence = 512, ThreadCount = 1 });
        var drafting = new LlamaSpeculationOptions { DraftModel = draft };
        LlamaCompletion[] together = await Task.WhenAll(Prompts.Select((p, i) => scheduler.CompleteAsync(p, new LlamaGenerationOptions { MaxTokens = 40, Sampling = LlamaSamplingOptions.Greedy, Speculation = i == 1 ? null : drafting })));

        Assert.That(together.Select(c => c.TokenIds), Is.EqualTo(alone));
    }

    [Test]
    public async Task ADraftModelOfAnotherVocabulary_IsRefused_NamingTheDifference()
    {
        using LlamaModel bert = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Embedding));
        using var session = new LlamaSession(_model, Context());

        ArgumentException? error = Assert.ThrowsAsync<ArgumentException>(() => session.CompleteAsync("Hi", new LlamaGenerationOptions { MaxTokens = 4, Speculation = new LlamaSpeculationOptions { DraftModel = bert } }));

        Assert.That(error!.Message, Does.Contain("cannot draft").And.Contain("tokenizer is WordPiece").And.Contain("vocabulary"));
        Assert.That((await session.CompleteAsync("Hi", Options(4, LlamaSamplingOptions.Greedy, speculate: false))).TokenIds, Has.Count.EqualTo(4), "the session goes on");
    }

    [Test]
    public void OutOfRangeSettings_AreNamed()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new LlamaSpeculationOptions { MaxDraftTokens = 0 }.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("MaxDraftTokens"));
            Assert.That(new LlamaSpeculationOptions { LookupNgramSize = 17 }.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("LookupNgramSize"));
            Assert.That(new LlamaGenerationOptions { Speculation = new LlamaSpeculationOptions { MaxDraftTokens = 65 } }.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    private static LlamaContextOptions Context() => new() { ContextSize = 512, ThreadCount = 1 };

    private static LlamaGenerationOptions Options(int tokens, LlamaSamplingOptions sampling, bool speculate) => new()
    {
        MaxTokens = tokens,
        Sampling = sampling,
        Speculation = speculate ? new LlamaSpeculationOptions() : null,
    };
}
