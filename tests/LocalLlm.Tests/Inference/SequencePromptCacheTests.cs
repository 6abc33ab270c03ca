namespace LocalLlm.Tests.Inference;

/// <summary>Which idle sequence a new scheduler request is given when the prompt cache is on.</summary>
public sealed class SequencePromptCacheTests
{
    private static readonly bool[] AllFree = [true, true, true];

    [Test]
    public void APromptContinuingWhatASequenceHolds_GetsThatSequence_WithAllButItsLastTokenReused()
    {
        var cache = new SequencePromptCache(3);
        cache.Hold(0, [1, 2, 3, 4]);
        cache.Hold(1, [1, 5, 6, 7]);

        Assert.That(cache.Choose([1, 5, 6, 7, 8, 9], AllFree), Is.EqualTo((1, 4)));
        Assert.That(cache.Choose([1, 2, 3, 4], AllFree), Is.EqualTo((0, 3)), "the last prompt token is evaluated again for its logits");
    }

    [Test]
    public void APromptSharingOnlyItsStart_TakesAnEmptySequence_ElseTheLeastRecentlyUsed()
    {
        var cache = new SequencePromptCache(3);
        cache.Hold(0, [1, 2, 3, 4]);
        cache.Hold(1, [1, 5, 6, 7]);

        Assert.That(cache.Choose([1, 9, 9], AllFree), Is.EqualTo((2, 0)), "sharing the first token does not claim a conversation's cache");
        Assert.That(cache.Choose([1, 9, 9], [true, true, false]), Is.EqualTo((0, 1)), "the older of two caches goes first, keeping what it can");

        cache.Hold(0, [1, 2, 3, 4]);
        Assert.That(cache.Choose([1, 9, 9], [true, true, false]).Sequence, Is.EqualTo(1), "sequence 0 was used again since");
    }

    [Test]
    public void APromptSharingALongSystemPreambleButNotTheConversation_DoesNotTakeThatConversationsSequence()
    {
        var cache = new SequencePromptCache(2);
        int[] preamble = [1, 10, 11, 12, 13, 14, 15, 16];
        cache.Hold(0, [.. preamble, 20, 21, 30, 31], promptLength: preamble.Length + 2);

        Assert.That(cache.Choose([.. preamble, 40, 41], AllFree.AsSpan(0, 2)), Is.EqualTo((1, 0)), "another conversation takes the empty sequence");
        Assert.That(cache.Choose([.. preamble, 20, 21, 50, 51, 52], AllFree.AsSpan(0, 2)), Is.EqualTo((0, preamble.Length + 2)), "the next turn, whose re-rendered reply differs, still gets its conversation's sequence");
    }

    [Test]
    public void OnlyFreeSequencesAreChosen()
    {
        var cache = new SequencePromptCache(3);
        cache.Hold(0, [1, 2, 3, 4]);

        Assert.That(cache.Choose([1, 2, 3, 4, 5], [false, true, true]).Sequence, Is.Not.EqualTo(0));
        Assert.That(() => cache.Choose([1, 2], [false, false, false]), Throws.InvalidOperationException);
    }

    [Test]
    public void AForgottenSequence_IsEmptyAgain()
    {
        var cache = new SequencePromptCache(2);
        cache.Hold(0, [1, 2, 3, 4]);
        cache.Forget(0);
        cache.Hold(1, [7, 8]);

        Assert.That(cache.Choose([1, 2, 3, 4, 5], AllFree.AsSpan(0, 2)), Is.EqualTo((0, 0)));
    }
}
