using System.Text.RegularExpressions;

namespace LocalLlm.Tests.Inference;

/// <summary>Generation through the sampler chain, on the random-weight model where only sampling shapes the output.</summary>
public sealed partial class SampledGenerationTests : TinyModelFixture
{
    private const string Prompt = "List some numbers:";

    [Test]
    public async Task TheSameSeed_GivesTheSameText_AndAnotherSeedDiffers()
    {
        using LlamaSession session = CreateSession();
        LlamaSamplingOptions Seeded(uint seed) => LlamaSampling.Create().Temperature(1.5f).TopK(0).TopP(1).MinP(0).Seed(seed).Build();

        string first = (await session.CompleteAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 24, Sampling = Seeded(7) })).Text;
        string again = (await session.CompleteAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 24, Sampling = Seeded(7) })).Text;
        string other = (await session.CompleteAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 24, Sampling = Seeded(8) })).Text;

        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
    }

    [Test]
    public async Task TheContextSeed_AppliesWhenTheSamplingSeedIsRandom()
    {
        LlamaSamplingOptions unseeded = LlamaSampling.Create().Temperature(1.5f).TopK(0).TopP(1).MinP(0).Build();
        async Task<string> Run()
        {
            using LlamaSession session = new(Model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 2, Seed = 1234 });
            return (await session.CompleteAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 24, Sampling = unseeded })).Text;
        }

        string first = await Run();
        string second = await Run();

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public async Task AGrammar_MakesTheRandomModelWriteOnlyWhatTheGrammarAccepts()
    {
        const string grammar = """
            root   ::= "[" number ("," " "? number)* "]"
            number ::= [1-9] [0-9]{0,2}
            """;
        using LlamaSession session = CreateSession();

        for (uint seed = 1; seed <= 3; seed++)
        {
            LlamaSamplingOptions sampling = LlamaSampling.Create().Temperature(1.0f).Grammar(grammar).Seed(seed).Build();
            LlamaCompletion completion = await session.CompleteAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 64, Sampling = sampling });

            TestContext.Out.WriteLine($"seed {seed}: {completion.Text} ({completion.FinishReason})");
            Assert.That(completion.Text, Does.Match(completion.FinishReason == LlamaFinishReason.Stop ? NumberList().ToString() : NumberListPrefix().ToString()));
        }
    }

    [Test]
    public async Task AGrammarForcingEmojiAndCjk_StreamsWholeCharactersOnly()
    {
        const string expected = "🦙𠜎日本語🚀";
        using LlamaSession session = CreateSession();
        LlamaSamplingOptions sampling = LlamaSampling.Create().Grammar($"root ::= \"{expected}\"").Seed(1).Build();
        var pieces = new List<string>();

        await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 40, Sampling = sampling }))
        {
            pieces.Add(update.Text);
        }

        int splitTokens = pieces.Count(p => p.Length == 0);
        Assert.That(string.Concat(pieces), Is.EqualTo(expected));
        Assert.That(splitTokens, Is.GreaterThan(0), "some characters were split over several tokens, whose updates carried no text");
        Assert.That(pieces.Where(p => p.Contains('\uFFFD') || (p.Length > 0 && (char.IsLowSurrogate(p[0]) || char.IsHighSurrogate(p[^1])))), Is.Empty);
    }

    [Test]
    public async Task ALogitBiasOfMinusInfinity_BansATokenTheModelWouldOtherwisePick()
    {
        using LlamaSession session = CreateSession();
        LlamaCompletion greedy = await session.CompleteAsync(Prompt, Greedy(1));
        int favourite = greedy.TokenIds[0];

        LlamaSamplingOptions banned = LlamaSampling.Create().Greedy().LogitBias(favourite, float.NegativeInfinity).Build();
        LlamaCompletion completion = await session.CompleteAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 1, Sampling = banned });

        Assert.That(completion.TokenIds[0], Is.Not.EqualTo(favourite));
    }

    [GeneratedRegex(@"^\[[1-9][0-9]{0,2}(, ?[1-9][0-9]{0,2})*\]$")]
    private static partial Regex NumberList();

    [GeneratedRegex(@"^\[([1-9][0-9]{0,2}(, ?[1-9][0-9]{0,2})*(, ?)?)?$")]
    private static partial Regex NumberListPrefix();
}
