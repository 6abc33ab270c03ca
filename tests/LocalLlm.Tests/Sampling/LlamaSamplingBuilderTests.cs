namespace LocalLlm.Tests.Sampling;

public sealed class LlamaSamplingBuilderTests
{
    [Test]
    public void Default_HasLlamaCppCommonDefaults()
    {
        LlamaSamplingOptions d = LlamaSamplingOptions.Default;

        Assert.Multiple(() =>
        {
            Assert.That((d.Temperature, d.DynamicTemperatureRange, d.DynamicTemperatureExponent), Is.EqualTo((0.8f, 0f, 1f)));
            Assert.That((d.TopK, d.TopP, d.MinP, d.TypicalP, d.MinKeep, d.TopNSigma), Is.EqualTo((40, 0.95f, 0.05f, 1f, 0, -1f)));
            Assert.That((d.XtcProbability, d.XtcThreshold), Is.EqualTo((0f, 0.1f)));
            Assert.That((d.DryMultiplier, d.DryBase, d.DryAllowedLength, d.DryPenaltyLastN), Is.EqualTo((0f, 1.75f, 2, 64)));
            Assert.That(d.DrySequenceBreakers, Is.EqualTo(new[] { "\n", ":", "\"", "*" }));
            Assert.That((d.RepetitionPenalty, d.FrequencyPenalty, d.PresencePenalty, d.PenaltyLastN), Is.EqualTo((1f, 0f, 0f, 64)));
            Assert.That((d.Mirostat, d.MirostatTau, d.MirostatEta), Is.EqualTo((LlamaMirostatVersion.None, 5f, 0.1f)));
            Assert.That((d.AdaptivePTarget, d.AdaptivePDecay), Is.EqualTo((-1f, 0.9f)));
            Assert.That(d.LogitBias, Is.Empty);
            Assert.That((d.Grammar, d.GrammarRoot), Is.EqualTo(((string?)null, "root")));
            Assert.That(d.Seed, Is.Null);
            Assert.That(d.IsGreedy, Is.False);
        });
    }

    [Test]
    public void Greedy_HasZeroTemperatureAndNoTruncation()
    {
        LlamaSamplingOptions g = LlamaSamplingOptions.Greedy;

        Assert.That((g.IsGreedy, g.Temperature, g.TopK, g.TopP, g.MinP), Is.EqualTo((true, 0f, 0, 1f, 0f)));
    }

    [Test]
    public void Create_StartsFromDefault_AndBuildingNothingGivesAnEqualValue()
    {
        LlamaSamplingOptions built = LlamaSampling.Create().Build();

        Assert.That(built, Is.EqualTo(LlamaSamplingOptions.Default));
    }

    [Test]
    public void Builder_SetsEverySetting()
    {
        LlamaSamplingOptions s = LlamaSampling.Create()
            .TopK(10).TopP(0.9f).MinP(0.1f).TypicalP(0.7f).MinKeep(3).TopNSigma(1.5f).Temperature(0.7f)
            .DynamicTemperature(0.3f, 2f).Xtc(0.5f, 0.2f).Dry(0.8f, 2f, 3, 128, ["\n\n"])
            .RepetitionPenalty(1.1f, lastN: 32).FrequencyPenalty(0.2f).PresencePenalty(0.3f)
            .Mirostat(LlamaMirostatVersion.V2, tau: 4f, eta: 0.2f).AdaptiveP(0.6f, 0.5f)
            .LogitBias(7, -2f).LogitBias(9, float.NegativeInfinity).Grammar("start ::= \"a\"", root: "start").Seed(42)
            .Build();

        Assert.Multiple(() =>
        {
            Assert.That((s.TopK, s.TopP, s.MinP, s.TypicalP, s.MinKeep, s.TopNSigma, s.Temperature), Is.EqualTo((10, 0.9f, 0.1f, 0.7f, 3, 1.5f, 0.7f)));
            Assert.That((s.DynamicTemperatureRange, s.DynamicTemperatureExponent, s.XtcProbability, s.XtcThreshold), Is.EqualTo((0.3f, 2f, 0.5f, 0.2f)));
            Assert.That((s.DryMultiplier, s.DryBase, s.DryAllowedLength, s.DryPenaltyLastN), Is.EqualTo((0.8f, 2f, 3, 128)));
            Assert.That(s.DrySequenceBreakers, Is.EqualTo(new[] { "\n\n" }));
            Assert.That((s.RepetitionPenalty, s.FrequencyPenalty, s.PresencePenalty, s.PenaltyLastN), Is.EqualTo((1.1f, 0.2f, 0.3f, 32)));
            Assert.That((s.Mirostat, s.MirostatTau, s.MirostatEta, s.AdaptivePTarget, s.AdaptivePDecay), Is.EqualTo((LlamaMirostatVersion.V2, 4f, 0.2f, 0.6f, 0.5f)));
            Assert.That(s.LogitBias, Is.EquivalentTo(new Dictionary<int, float> { [7] = -2f, [9] = float.NegativeInfinity }));
            Assert.That((s.Grammar, s.GrammarRoot, s.Seed), Is.EqualTo(("start ::= \"a\"", "start", (uint?)42)));
        });
    }

    [Test]
    public void Builder_ALaterCallReplacesTheEarlierValue_AndLeavesBuiltOptionsUnchanged()
    {
        LlamaSamplingBuilder builder = LlamaSampling.Create().TopK(5).LogitBias(3, 1f);
        LlamaSamplingOptions first = builder.Build();

        LlamaSamplingOptions second = builder.TopK(7).LogitBias(3, -1f).Build();

        Assert.That((first.TopK, first.LogitBias[3]), Is.EqualTo((5, 1f)));
        Assert.That((second.TopK, second.LogitBias[3], second.LogitBias.Count), Is.EqualTo((7, -1f, 1)));
    }

    [Test]
    public void PenaltyWindow_IsSharedAndKeptWhenNotGiven()
    {
        LlamaSamplingOptions s = LlamaSampling.Create().RepetitionPenalty(1.2f, lastN: 16).FrequencyPenalty(0.5f).Build();

        Assert.That(s.PenaltyLastN, Is.EqualTo(16));
    }

    [Test]
    public void Create_FromBasis_DerivesAVariant()
    {
        LlamaSamplingOptions variant = LlamaSampling.Create(LlamaSamplingOptions.Greedy).LogitBias(1, -1f).Build();

        Assert.That((variant.IsGreedy, variant.TopK, variant.LogitBias.Count), Is.EqualTo((true, 0, 1)));
        Assert.That(LlamaSamplingOptions.Greedy.LogitBias, Is.Empty);
    }

    [Test]
    public void Options_CompareByValue_IncludingCollections()
    {
        LlamaSamplingOptions a = LlamaSampling.Create().LogitBias(1, 2f).LogitBias(3, 4f).Dry(1f, sequenceBreakers: ["x"]).Build();
        LlamaSamplingOptions b = LlamaSampling.Create().LogitBias(3, 4f).LogitBias(1, 2f).Dry(1f, sequenceBreakers: ["x"]).Build();
        LlamaSamplingOptions c = LlamaSampling.Create().LogitBias(1, 2f).Dry(1f, sequenceBreakers: ["x"]).Build();

        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
        Assert.That(a, Is.Not.EqualTo(c));
    }

    [Test]
    public void Greedy_OnTheBuilder_SetsTemperatureZero()
    {
        Assert.That(LlamaSampling.Create().Greedy().Build().IsGreedy, Is.True);
    }

    [Test]
    public void DisabledValuesThatLlamaCppUses_AreAccepted()
    {
        Assert.DoesNotThrow(() => LlamaSampling.Create()
            .TopK(0).TopP(1f).MinP(0f).TypicalP(1f).TopNSigma(-1f).Xtc(0f).Dry(0f).RepetitionPenalty(1f, lastN: 0)
            .FrequencyPenalty(0f).PresencePenalty(0f).Mirostat(LlamaMirostatVersion.None).DynamicTemperature(0f).Seed(null).Build());
    }
}
