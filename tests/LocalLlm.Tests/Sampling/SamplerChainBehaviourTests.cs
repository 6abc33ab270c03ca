using LocalLlm.Native;
using LocalLlm.Tests.Models;
using static LocalLlm.Tests.Sampling.SamplerChainProbe;

namespace LocalLlm.Tests.Sampling;

/// <summary>What the native chain selects from synthetic candidates over the whole vocabulary.</summary>
public sealed class SamplerChainBehaviourTests : VocabularyModelFixture
{
    private int VocabularySize => Model.Tokenizer.VocabularySize;

    [Test]
    public void Greedy_SelectsTheHighestLogit()
    {
        using SafeLlamaSamplerHandle chain = LlamaSamplingOptions.Greedy.CreateNativeChain(Model.Tokenizer);

        for (int seed = 0; seed < 10; seed++)
        {
            float[] logits = RandomLogits(VocabularySize, seed);
            Assert.That(Select(chain, logits), Is.EqualTo(ArgMax(logits)));
        }
    }

    [Test]
    public void TemperatureZero_IsGreedy_WhateverTheSeed()
    {
        float[] logits = RandomLogits(VocabularySize, seed: 3);
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create().Temperature(0f).TopK(0).Build().CreateNativeChain(Model.Tokenizer);

        int[] picks = [.. Enumerable.Range(0, 20).Select(_ => Select(chain, logits))];

        Assert.That(picks, Is.All.EqualTo(ArgMax(logits)));
    }

    [Test]
    public void TopKOne_AlwaysSelectsTheHighestLogit_EvenAtHighTemperature()
    {
        float[] logits = RandomLogits(VocabularySize, seed: 4);
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create().TopK(1).TopP(1f).MinP(0f).Temperature(5f).Build().CreateNativeChain(Model.Tokenizer);

        int[] picks = [.. Enumerable.Range(0, 50).Select(_ => Select(chain, logits))];

        Assert.That(picks, Is.All.EqualTo(ArgMax(logits)));
    }

    [Test]
    public void LogitBiasOfNegativeInfinity_BansTheTopToken()
    {
        float[] logits = Logits(VocabularySize, 0f, (100, 10f), (200, 9f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create(LlamaSamplingOptions.Greedy).LogitBias(100, float.NegativeInfinity).Build().CreateNativeChain(Model.Tokenizer);

        Assert.That(Select(chain, logits), Is.EqualTo(200));
    }

    [Test]
    public void PositiveLogitBias_PromotesAToken()
    {
        float[] logits = Logits(VocabularySize, 0f, (100, 10f), (200, 9f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create(LlamaSamplingOptions.Greedy).LogitBias(200, 2f).Build().CreateNativeChain(Model.Tokenizer);

        Assert.That(Select(chain, logits), Is.EqualTo(200));
    }

    [Test]
    public void SameSeed_GivesTheSameSequence_AndADifferentSeedADifferentOne()
    {
        float[] logits = Logits(VocabularySize, 0f);
        int[] Draw(uint seed)
        {
            LlamaSamplingOptions options = LlamaSampling.Create().TopK(0).TopP(1f).MinP(0f).Temperature(1f).Seed(seed).Build();
            using SafeLlamaSamplerHandle chain = options.CreateNativeChain(Model.Tokenizer);
            return [.. Enumerable.Range(0, 50).Select(_ => SelectAndAccept(chain, logits))];
        }

        int[] first = Draw(42);

        Assert.That(Draw(42), Is.EqualTo(first));
        Assert.That(Draw(43), Is.Not.EqualTo(first));
        Assert.That(first.Distinct().Count(), Is.GreaterThan(40), "uniform logits over the vocabulary should rarely repeat");
    }

    [Test]
    public void NoSeed_DrawsARandomSeedPerChain()
    {
        float[] logits = Logits(VocabularySize, 0f);
        int[] Draw()
        {
            using SafeLlamaSamplerHandle chain = LlamaSampling.Create().TopK(0).TopP(1f).MinP(0f).Temperature(1f).Build().CreateNativeChain(Model.Tokenizer);
            return [.. Enumerable.Range(0, 20).Select(_ => Select(chain, logits))];
        }

        int[] first = Draw();
        int[] second = Draw();

        Assert.That(second, Is.Not.EqualTo(first));
    }

    [Test]
    public void RepetitionPenalty_LowersATokenAfterItIsAccepted()
    {
        float[] logits = Logits(VocabularySize, 0f, (100, 10f), (200, 9f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create(LlamaSamplingOptions.Greedy).RepetitionPenalty(1.5f, lastN: 8).Build().CreateNativeChain(Model.Tokenizer);

        int first = SelectAndAccept(chain, logits);
        int second = SelectAndAccept(chain, logits);

        Assert.That((first, second), Is.EqualTo((100, 200)), "10 / 1.5 falls below 9 once token 100 has been seen");
    }

    [Test]
    public void PresenceAndFrequencyPenalties_LowerSeenTokens()
    {
        float[] logits = Logits(VocabularySize, 0f, (100, 10f), (200, 9f), (300, 8.5f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create(LlamaSamplingOptions.Greedy).PresencePenalty(1f).FrequencyPenalty(1f).Build().CreateNativeChain(Model.Tokenizer);

        int[] picks = [.. Enumerable.Range(0, 3).Select(_ => SelectAndAccept(chain, logits))];

        Assert.That(picks, Is.EqualTo(new[] { 100, 200, 300 }));
    }

    [Test]
    public void Dry_PenalizesTheTokenThatExtendsARepeatedSequence()
    {
        // History a b c a b: c would repeat "a b c"; DRY lowers it by 1 × 2^(2 − 1) = 2.
        float[] logits = Logits(VocabularySize, 0f, (1002, 1f), (500, 0.5f));
        LlamaSamplingOptions withDry = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Dry(1f, exponentBase: 2f, allowedLength: 1).Build();
        int Pick(LlamaSamplingOptions options)
        {
            using SafeLlamaSamplerHandle chain = options.CreateNativeChain(Model.Tokenizer);
            foreach (int token in new[] { 1000, 1001, 1002, 1000, 1001 })
            {
                NativeMethods.llama_sampler_accept(chain, token);
            }

            return Select(chain, logits);
        }

        Assert.That(Pick(LlamaSamplingOptions.Greedy), Is.EqualTo(1002));
        Assert.That(Pick(withDry), Is.EqualTo(500));
    }

    [Test]
    public void Xtc_AtProbabilityOne_RemovesTheTopChoicesButTheLeastLikelyOfThem()
    {
        float[] logits = Logits(VocabularySize, -20f, (10, 5f), (11, 4.8f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Xtc(1f, 0.1f).Seed(5).Build().CreateNativeChain(Model.Tokenizer);

        Assert.That(Select(chain, logits), Is.EqualTo(11));
    }

    [Test]
    public void MinP_DropsUnlikelyTokens()
    {
        float[] logits = Logits(VocabularySize, -100f, (10, 5f), (11, 4.9f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create().TopK(0).TopP(1f).MinP(0.5f).Temperature(2f).Seed(9).Build().CreateNativeChain(Model.Tokenizer);

        int[] picks = [.. Enumerable.Range(0, 50).Select(_ => Select(chain, logits))];

        Assert.That(picks, Is.All.AnyOf(10, 11));
        Assert.That(picks.Distinct().Count(), Is.EqualTo(2));
    }

    [TestCase(LlamaMirostatVersion.V1)]
    [TestCase(LlamaMirostatVersion.V2)]
    public void Mirostat_IsReproducibleWithASeed(LlamaMirostatVersion version)
    {
        int[] Draw()
        {
            using SafeLlamaSamplerHandle chain = LlamaSampling.Create().Mirostat(version).Seed(11).Build().CreateNativeChain(Model.Tokenizer);
            return [.. Enumerable.Range(0, 30).Select(i => SelectAndAccept(chain, RandomLogits(VocabularySize, i)))];
        }

        int[] first = Draw();

        Assert.That(Draw(), Is.EqualTo(first));
        Assert.That(first.Distinct().Count(), Is.GreaterThan(1));
    }

    [Test]
    public void AdaptiveP_IsReproducibleWithASeed()
    {
        int[] Draw()
        {
            using SafeLlamaSamplerHandle chain = LlamaSampling.Create().AdaptiveP(0.3f).Seed(12).Build().CreateNativeChain(Model.Tokenizer);
            return [.. Enumerable.Range(0, 30).Select(i => SelectAndAccept(chain, RandomLogits(VocabularySize, i)))];
        }

        int[] first = Draw();
        int[] second = Draw();

        Assert.That(second, Is.EqualTo(first));
    }
}
