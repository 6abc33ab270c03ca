using System.Text.RegularExpressions;
using LocalLlm.Native;
using LocalLlm.Tests.Models;

namespace LocalLlm.Tests.Sampling;

/// <summary>GBNF grammars in the native chain: parse failures and the constraint itself.</summary>
public sealed partial class GrammarSamplingTests : VocabularyModelFixture
{
    private const string IntegerList = """root ::= "[" [0-9]+ ("," [0-9]+)* "]" """;

    // llama.cpp logs only "failed to parse grammar" for syntax errors and undefined rules; their detail goes to stderr.
    [TestCase("root ::= [0-9", "root", "failed to parse grammar")]
    [TestCase("root ::= number", "root", "failed to parse grammar")]
    [TestCase("start ::= \"a\"", "root", "grammar does not contain a 'root' symbol")]
    [TestCase("root ::= \"a\"", "start", "grammar does not contain a 'start' symbol")]
    public void InvalidGrammar_ThrowsArgumentException_NamingTheProblem(string grammar, string root, string problem)
    {
        LlamaSamplingOptions options = LlamaSampling.Create().Grammar(grammar, root).Build();

        ArgumentException? exception = Assert.Throws<ArgumentException>(() => options.CreateNativeSampler(Model.Tokenizer));

        Assert.That(exception!.Message, Does.StartWith($"The GBNF grammar (root rule '{root}') is invalid:").And.Contain(problem));
    }

    [Test]
    public void Grammar_WithAnotherRoot_Parses()
    {
        LlamaSamplingOptions options = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar("start ::= \"a\"", root: "start").Build();

        using NativeSampler sampler = options.CreateNativeSampler(Model.Tokenizer);

        // As in llama.cpp's common sampler, the grammar stays beside the chain.
        Assert.That(sampler.HasGrammar, Is.True);
        Assert.That(SamplerChainProbe.Names(sampler.Chain), Is.EqualTo(new[] { "greedy" }));
    }

    [TestCase(1u)]
    [TestCase(2u)]
    [TestCase(3u)]
    public void Grammar_ConstrainsEverySelectedToken(uint seed)
    {
        LlamaSamplingOptions options = LlamaSampling.Create().Grammar(IntegerList).Seed(seed).Build();
        using NativeSampler sampler = options.CreateNativeSampler(Model.Tokenizer);
        float[] equal = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f);
        List<int> tokens = [];

        for (int step = 0; step < 30; step++)
        {
            int token = sampler.SampleAndAccept(equal);
            if (Model.Tokenizer.IsEndOfGeneration(token))
            {
                break;
            }

            tokens.Add(token);
        }

        string text = Model.Tokenizer.Detokenize([.. tokens]);
        TestContext.Out.WriteLine(text);
        Assert.That(text, Does.Match(IntegerListPrefix()), $"'{text}' is not the start of an integer list");
        Assert.That(text, Does.StartWith("["));
    }

    [Test]
    public void Grammar_WithTheHighestLogitOnAForbiddenToken_SelectsAnAllowedOne()
    {
        int letter = Model.Tokenizer.Tokenize("hello", addSpecial: false).Single();
        float[] logits = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f, (letter, 50f));
        using NativeSampler sampler = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(IntegerList).Build().CreateNativeSampler(Model.Tokenizer);

        int token = sampler.SampleAndAccept(logits);

        Assert.That(Model.Tokenizer.Detokenize([token]), Does.StartWith("["));
    }

    [Test]
    public void AGrammarWhoseEveryAllowedTokenIsBanned_FailsClearly_InsteadOfCrashingInNativeCode()
    {
        LlamaSamplingBuilder builder = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar("root ::= [0-9]");
        foreach (int digit in Enumerable.Range(0, 10).SelectMany(d => Model.Tokenizer.Tokenize(d.ToString(System.Globalization.CultureInfo.InvariantCulture), addSpecial: false)))
        {
            builder.LogitBias(digit, float.NegativeInfinity);
        }

        using NativeSampler sampler = builder.Build().CreateNativeSampler(Model.Tokenizer);

        var ex = Assert.Throws<LlamaException>(() => sampler.SampleAndAccept(SamplerChainProbe.RandomLogits(Model.Tokenizer.VocabularySize, seed: 1)));
        Assert.That(ex!.Message, Does.Contain("No token the grammar permits"));
    }

    [Test]
    public void AGrammarThatNoCharacterSatisfies_FailsNamingWhy_InsteadOfEmittingBytesThatAreNoText()
    {
        // llama.cpp's grammar reads 0xF8-0xFF as lead bytes of "characters" above U+10FFFF, which this class matches.
        using NativeSampler sampler = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(@"root ::= [^\x00-\U0010FFFF]").Build().CreateNativeSampler(Model.Tokenizer);

        var ex = Assert.Throws<LlamaException>(() => sampler.SampleAndAccept(SamplerChainProbe.RandomLogits(Model.Tokenizer.VocabularySize, seed: 1)));

        Assert.That(ex!.Message, Does.Contain("not well-formed UTF-8"));
    }

    [Test]
    public void UnderANegatedClass_TheTokensThatWouldBreakUtf8_ArePassedOver()
    {
        using NativeSampler sampler = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar("root ::= [^\"]+").Build().CreateNativeSampler(Model.Tokenizer);
        int[] noText = Enumerable.Range(0, Model.Tokenizer.VocabularySize).Where(t => Model.Tokenizer.GetTokenBytes(t) is [0xFF]).ToArray();
        int lead = Enumerable.Range(0, Model.Tokenizer.VocabularySize).First(t => Model.Tokenizer.GetTokenBytes(t) is [0xF0]);
        int letter = Model.Tokenizer.Tokenize("hello", addSpecial: false).Single();
        List<byte> text = [];

        // Step 1: a token of byte 0xFF (never UTF-8) scores highest. Step 2: a four-byte lead; step 3: a letter scores
        // highest although the character begun at step 2 needs a continuation byte.
        Assert.That(noText, Is.Not.Empty, "byte-level BPE has a token for every byte");
        float[] first = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f, (noText[0], 100f), (letter, 50f));
        float[] second = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f, (lead, 100f));
        float[] third = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f, (letter, 100f));
        foreach (float[] logits in new[] { first, second, third })
        {
            text.AddRange(Model.Tokenizer.GetTokenBytes(sampler.SampleAndAccept(logits)));
        }

        Assert.That(text.Take(5).ToArray(), Is.EqualTo("hello"u8.ToArray()), "the 0xFF token was passed over for the next best");
        Assert.That(text[5], Is.EqualTo(0xF0));
        Assert.That(text[6], Is.InRange(0x90, 0xBF), "after a four-byte lead, only a token that continues the character");
    }

    [Test]
    public void CheckingOnlyTheChosenToken_PicksWhatFilteringEveryCandidateFirstWould_ForGreedy()
    {
        using NativeSampler sampler = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(IntegerList).Build().CreateNativeSampler(Model.Tokenizer);
        using SafeLlamaSamplerHandle grammarFirst = SafeLlamaSamplerHandle.CreateChain();
        NativeMethods.llama_sampler_chain_add(grammarFirst, NativeMethods.llama_sampler_init_grammar(Model.Tokenizer.Vocabulary.Pointer, IntegerList, "root"));
        NativeMethods.llama_sampler_chain_add(grammarFirst, NativeMethods.llama_sampler_init_greedy());
        int digit = Model.Tokenizer.Tokenize("7", addSpecial: false).Single();
        int rejected = 0;

        for (int step = 0; step < 40; step++)
        {
            // Every other step the highest logit is a digit (allowed after the opening bracket), else random.
            float[] logits = SamplerChainProbe.RandomLogits(Model.Tokenizer.VocabularySize, seed: step);
            if (step % 2 == 1)
            {
                logits[digit] = 100f;
            }

            int expected = SamplerChainProbe.SelectAndAccept(grammarFirst, logits);
            rejected += expected == SamplerChainProbe.ArgMax(logits) ? 0 : 1;
            Assert.That(sampler.SampleAndAccept(logits), Is.EqualTo(expected), $"step {step}");
        }

        Assert.That(rejected, Is.GreaterThan(0), "some steps' highest logit broke the grammar, so the resampling path ran");
    }

    /// <summary>Any prefix of a string <see cref="IntegerList"/> accepts.</summary>
    [GeneratedRegex(@"^\[(\d+(,\d+)*(,|\])?)?$")]
    private static partial Regex IntegerListPrefix();
}
