namespace LocalLlm.Tests.Sampling;

public sealed class LlamaSamplingValidationTests
{
    private static readonly float NaN = float.NaN;
    private static readonly float Inf = float.PositiveInfinity;

    private static IEnumerable<TestCaseData> OutOfRangeCases()
    {
        yield return Case(b => b.Temperature(-0.1f), "temperature", "Temperature must be a finite number of at least 0, but was -0.1.");
        yield return Case(b => b.Temperature(NaN), "temperature", "but was NaN.");
        yield return Case(b => b.Temperature(Inf), "temperature", "but was Infinity.");
        yield return Case(b => b.DynamicTemperature(-1f), "range", "DynamicTemperature range must be a finite number of at least 0, but was -1.");
        yield return Case(b => b.DynamicTemperature(0.5f, NaN), "exponent", "DynamicTemperature exponent must be a finite number of at least 0, but was NaN.");
        yield return Case(b => b.TopK(-1), "topK", "TopK must be 0 or greater, but was -1.");
        yield return Case(b => b.TopP(1.5f), "topP", "TopP must be in (0, 1], but was 1.5.");
        yield return Case(b => b.TopP(0f), "topP", "TopP must be in (0, 1], but was 0.");
        yield return Case(b => b.TopP(NaN), "topP", "TopP must be in (0, 1], but was NaN.");
        yield return Case(b => b.MinP(-0.01f), "minP", "MinP must be in [0, 1], but was -0.01.");
        yield return Case(b => b.MinP(1.01f), "minP", "MinP must be in [0, 1], but was 1.01.");
        yield return Case(b => b.TypicalP(0f), "typicalP", "TypicalP must be in (0, 1], but was 0.");
        yield return Case(b => b.TypicalP(2f), "typicalP", "TypicalP must be in (0, 1], but was 2.");
        yield return Case(b => b.MinKeep(-1), "minKeep", "MinKeep must be 0 or greater, but was -1.");
        yield return Case(b => b.TopNSigma(NaN), "topNSigma", "TopNSigma must be a finite number, but was NaN.");
        yield return Case(b => b.TopNSigma(float.NegativeInfinity), "topNSigma", "TopNSigma must be a finite number, but was -Infinity.");
        yield return Case(b => b.Xtc(1.5f), "probability", "Xtc probability must be in [0, 1], but was 1.5.");
        yield return Case(b => b.Xtc(0.5f, -0.1f), "threshold", "Xtc threshold must be in [0, 1], but was -0.1.");
        yield return Case(b => b.Dry(-1f), "multiplier", "Dry multiplier must be a finite number of at least 0, but was -1.");
        yield return Case(b => b.Dry(Inf), "multiplier", "Dry multiplier must be a finite number of at least 0, but was Infinity.");
        yield return Case(b => b.Dry(1f, exponentBase: 0.5f), "exponentBase", "Dry exponentBase must be a finite number of at least 1, but was 0.5.");
        yield return Case(b => b.Dry(1f, allowedLength: -1), "allowedLength", "Dry allowedLength must be 0 or greater, but was -1.");
        yield return Case(b => b.Dry(1f, penaltyLastN: -1), "penaltyLastN", "Dry penaltyLastN must be 0 or greater, but was -1.");
        yield return Case(b => b.RepetitionPenalty(0f), "repetitionPenalty", "RepetitionPenalty must be a finite number greater than 0, but was 0.");
        yield return Case(b => b.RepetitionPenalty(-1f), "repetitionPenalty", "RepetitionPenalty must be a finite number greater than 0, but was -1.");
        yield return Case(b => b.RepetitionPenalty(float.Epsilon), "repetitionPenalty", "RepetitionPenalty must be a finite number greater than 0, but was 1E-45.");
        yield return Case(b => b.RepetitionPenalty(Inf), "repetitionPenalty", "RepetitionPenalty must be a finite number greater than 0, but was Infinity.");
        yield return Case(b => b.RepetitionPenalty(1.1f, lastN: -1), "lastN", "Penalty lastN must be 0 or greater, but was -1.");
        yield return Case(b => b.FrequencyPenalty(NaN), "frequencyPenalty", "FrequencyPenalty must be a finite number, but was NaN.");
        yield return Case(b => b.FrequencyPenalty(0.5f, lastN: -2), "lastN", "Penalty lastN must be 0 or greater, but was -2.");
        yield return Case(b => b.PresencePenalty(Inf), "presencePenalty", "PresencePenalty must be a finite number, but was Infinity.");
        yield return Case(b => b.Mirostat(LlamaMirostatVersion.V2, tau: 0f), "tau", "Mirostat tau must be a finite number greater than 0, but was 0.");
        yield return Case(b => b.Mirostat(LlamaMirostatVersion.V1, eta: -0.1f), "eta", "Mirostat eta must be a finite number greater than 0, but was -0.1.");
        yield return Case(b => b.Mirostat((LlamaMirostatVersion)3), "version", "Mirostat version must be None, V1 or V2, but was 3.");
        yield return Case(b => b.AdaptiveP(1.5f), "target", "AdaptiveP target must be in [0, 1], but was 1.5.");
        yield return Case(b => b.AdaptiveP(-0.5f), "target", "AdaptiveP target must be in [0, 1], but was -0.5.");
        yield return Case(b => b.AdaptiveP(0.5f, decay: 1f), "decay", "AdaptiveP decay must be in [0, 0.99], but was 1.");
        yield return Case(b => b.LogitBias(-1, 1f), "token", "LogitBias token must be 0 or greater, but was -1.");
        yield return Case(b => b.LogitBias(5, NaN), "bias", "LogitBias bias must be a finite number or negative infinity, but was NaN.");
        yield return Case(b => b.LogitBias(5, Inf), "bias", "LogitBias bias must be a finite number or negative infinity, but was Infinity.");
        yield return Case(b => b.Seed(uint.MaxValue), "seed", "Seed must be below 4294967295 (llama.cpp's random-seed marker; pass null for a random seed), but was 4294967295.");
    }

    [TestCaseSource(nameof(OutOfRangeCases))]
    public void InvalidValue_ThrowsOutOfRange_NamingTheSettingAndValue(Action<LlamaSamplingBuilder> set, string paramName, string message)
    {
        ArgumentOutOfRangeException? exception = Assert.Throws<ArgumentOutOfRangeException>(() => set(LlamaSampling.Create()));

        Assert.That(exception!.ParamName, Is.EqualTo(paramName));
        Assert.That(exception.Message, Does.Contain(message));
    }

    [Test]
    public void InvalidValue_LeavesTheBuilderUnchanged()
    {
        LlamaSamplingBuilder builder = LlamaSampling.Create().TopP(0.5f);

        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Xtc(0.5f, threshold: 2f));

        Assert.That(builder.Build(), Is.EqualTo(LlamaSampling.Create().TopP(0.5f).Build()));
    }

    [TestCase("")]
    [TestCase("   ")]
    public void Grammar_Empty_ThrowsArgumentException(string grammar)
    {
        ArgumentException? exception = Assert.Throws<ArgumentException>(() => LlamaSampling.Create().Grammar(grammar));

        Assert.That(exception!.ParamName, Is.EqualTo("grammar"));
    }

    [Test]
    public void Grammar_Null_ThrowsArgumentNullException()
    {
        ArgumentNullException? exception = Assert.Throws<ArgumentNullException>(() => LlamaSampling.Create().Grammar(null!));

        Assert.That(exception!.ParamName, Is.EqualTo("grammar"));
    }

    [Test]
    public void Grammar_EmptyRoot_ThrowsArgumentException()
    {
        ArgumentException? exception = Assert.Throws<ArgumentException>(() => LlamaSampling.Create().Grammar("root ::= \"a\"", root: ""));

        Assert.That(exception!.ParamName, Is.EqualTo("root"));
    }

    [Test]
    public void Dry_EmptySequenceBreaker_ThrowsArgumentException()
    {
        ArgumentException? exception = Assert.Throws<ArgumentException>(() => LlamaSampling.Create().Dry(1f, sequenceBreakers: ["\n", ""]));

        Assert.That(exception!.ParamName, Is.EqualTo("sequenceBreakers"));
        Assert.That(exception.Message, Does.Contain("DRY sequence breaker 1 is empty"));
    }

    [Test]
    public void Create_NullBasis_ThrowsArgumentNullException()
    {
        ArgumentNullException? exception = Assert.Throws<ArgumentNullException>(() => LlamaSampling.Create(null!));

        Assert.That(exception!.ParamName, Is.EqualTo("basis"));
    }

    private static TestCaseData Case(Action<LlamaSamplingBuilder> set, string paramName, string message) =>
        new TestCaseData(set, paramName, message).SetArgDisplayNames(paramName, message);
}
