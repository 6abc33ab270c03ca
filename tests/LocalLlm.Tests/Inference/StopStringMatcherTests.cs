namespace LocalLlm.Tests.Inference;

public sealed class StopStringMatcherTests
{
    [Test]
    public void StopStringSplitAcrossPieces_IsMatchedAndNotEmitted()
    {
        var matcher = new StopStringMatcher(["</answer>"]);

        string emitted = matcher.Append("The result is 42</") + matcher.Append("ans") + matcher.Append("wer> and more");

        Assert.That(emitted, Is.EqualTo("The result is 42"));
        Assert.That(matcher.Stopped, Is.True);
        Assert.That(matcher.MatchedStop, Is.EqualTo("</answer>"));
    }

    [Test]
    public void APossibleStopPrefix_IsHeldBackUntilItIsRuledOut()
    {
        var matcher = new StopStringMatcher(["STOP"]);

        Assert.That(matcher.Append("go ST"), Is.EqualTo("go "));
        Assert.That(matcher.Append("ART"), Is.EqualTo("START"));
        Assert.That(matcher.Stopped, Is.False);
    }

    [Test]
    public void Flush_ReleasesHeldBackTextAtTheEnd()
    {
        var matcher = new StopStringMatcher(["\n\n"]);

        Assert.That(matcher.Append("last line\n"), Is.EqualTo("last line"));
        Assert.That(matcher.Flush(), Is.EqualTo("\n"));
    }

    [Test]
    public void EarliestOfSeveralStops_Wins()
    {
        var matcher = new StopStringMatcher(["World", "lo"]);

        Assert.That(matcher.Append("Hello World"), Is.EqualTo("Hel"));
        Assert.That(matcher.MatchedStop, Is.EqualTo("lo"));
    }

    [Test]
    public void WithoutStops_EverythingPassesThrough()
    {
        var matcher = new StopStringMatcher([]);

        Assert.That(matcher.Append("anything at all"), Is.EqualTo("anything at all"));
        Assert.That(matcher.Flush(), Is.Empty);
    }
}
