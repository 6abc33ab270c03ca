using System.Globalization;

namespace LocalLlm.Tests.Native;

/// <summary>
/// Greedy tokens of one model computed two ways (another backend, another CPU architecture), whose kernels sum in
/// other orders: where the reference's top tokens are that close, either may win, so the runs may part there and only
/// there.
/// </summary>
internal static class GreedyComparison
{
    /// <summary>
    /// Asserts that <paramref name="other"/> has the reference's tokens, or parts from them once, at a step where the
    /// token it chose is among the reference's alternatives and within <paramref name="tie"/> of the top one.
    /// </summary>
    /// <returns>The step where the runs part, or -1 when they agree throughout.</returns>
    public static int AssertTheSameTokensUntilANearTie(
        IReadOnlyList<int> reference,
        IReadOnlyList<IReadOnlyList<LlamaTokenProbability>> referenceAlternatives,
        IReadOnlyList<int> other,
        float tie,
        string what)
    {
        Assert.That(other, Has.Count.EqualTo(reference.Count), $"{what}: both runs generate every token asked for");
        Assert.That(reference.Distinct().Count(), Is.GreaterThan(1), $"{what}: a continuation that changes token, so a shift anywhere shows");
        int parted = Enumerable.Range(0, reference.Count).FirstOrDefault(i => other[i] != reference[i], -1);
        TestContext.Out.WriteLine(parted < 0 ? $"{what}: identical tokens" : $"{what}: parted at token {parted}: reference {Describe(referenceAlternatives[parted])}");
        Assert.That(parted, Is.EqualTo(-1).Or.GreaterThan(0), $"{what}: the first token, from the prompt alone, is the same");
        if (parted > 0)
        {
            LlamaTokenProbability[] chosen = [.. referenceAlternatives[parted].Where(a => a.TokenId == other[parted])];
            Assert.That(chosen, Has.Length.EqualTo(1), $"{what}: at token {parted} the run chose {other[parted]}, not among the reference's top ({Describe(referenceAlternatives[parted])})");
            Assert.That(referenceAlternatives[parted].Max(a => a.LogProbability) - chosen[0].LogProbability, Is.LessThan(tie), $"{what}: the runs part at token {parted} only on a near tie");
        }

        return parted;
    }

    private static string Describe(IReadOnlyList<LlamaTokenProbability> alternatives) =>
        string.Join(", ", alternatives.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.TokenId} {a.LogProbability:F5}")));
}
