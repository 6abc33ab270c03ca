using LocalLlm.Native;

namespace LocalLlm.Tests.Inference;

public sealed class LlamaSessionTests : TinyModelFixture
{
    private const string Prompt = "Once upon a time, in a land of llamas,";

    [Test]
    public async Task GreedyGeneration_ProducesExactlyTheTokensOfARawDecodeAndArgmaxLoop()
    {
        int[] prompt = Model.Tokenizer.Tokenize(Prompt);
        int[] expected = RawGreedyLoop(prompt, 24);

        using LlamaSession session = CreateSession();
        LlamaCompletion completion = await session.CompleteAsync(prompt, Greedy(24));

        Assert.That(completion.TokenIds, Is.EqualTo(expected.TakeWhile(t => !Model.Tokenizer.IsEndOfGeneration(t))));
    }

    [Test]
    public async Task StreamedText_EqualsTheDetokenizedTokens_AndTheLastUpdateCarriesUsage()
    {
        using LlamaSession session = CreateSession();
        var updates = new List<LlamaGenerationUpdate>();

        await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompt, Greedy(16)))
        {
            updates.Add(update);
        }

        LlamaGenerationUpdate last = updates[^1];
        int[] tokens = updates.Where(u => u.TokenId is not null).Select(u => u.TokenId!.Value).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(string.Concat(updates.Select(u => u.Text)), Is.EqualTo(Model.Tokenizer.Detokenize(tokens)));
            Assert.That(updates.Take(updates.Count - 1).All(u => u.FinishReason is null && u.Usage is null), Is.True);
            Assert.That(last.TokenId, Is.Null);
            Assert.That(last.FinishReason, Is.EqualTo(tokens.Length == 16 ? LlamaFinishReason.Length : LlamaFinishReason.Stop));
            Assert.That(last.Usage!.GeneratedTokens, Is.EqualTo(tokens.Length));
            Assert.That(last.Usage.PromptTokens, Is.EqualTo(Model.Tokenizer.Tokenize(Prompt).Length));
            Assert.That(last.Usage.GenerationTokensPerSecond, Is.GreaterThan(0));
            Assert.That(last.Usage.PromptTokensPerSecond, Is.GreaterThan(0));
            Assert.That(session.LastFinishReason, Is.EqualTo(last.FinishReason));
        });
    }

    [Test]
    public async Task MaxTokens_EndsWithLength()
    {
        using LlamaSession session = CreateSession();

        LlamaCompletion completion = await session.CompleteAsync(Prompt, Greedy(5));

        Assert.That(completion.FinishReason, Is.EqualTo(LlamaFinishReason.Length));
        Assert.That(completion.TokenIds, Has.Count.EqualTo(5));
        Assert.That(completion.Usage.GeneratedTokens, Is.EqualTo(5));
    }

    [Test]
    public async Task StopString_EndsGeneration_AndIsNotReturned()
    {
        using LlamaSession session = CreateSession();
        string full = (await session.CompleteAsync(Prompt, Greedy(40))).Text;
        Assume.That(full.Length, Is.GreaterThan(12), "the greedy continuation is long enough to cut");
        string stop = full.Substring(full.Length / 2, 4);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var options = Greedy(40);
        options.StopStrings = [stop];
        LlamaCompletion completion = await session.CompleteAsync(Prompt, options);

        Assert.That(completion.Text, Is.EqualTo(expected));
        Assert.That(completion.FinishReason, Is.EqualTo(LlamaFinishReason.Stop));
    }

    [Test]
    public async Task APromptSharingAPrefixWithTheLastOne_EvaluatesOnlyTheNewSuffix()
    {
        using LlamaSession session = CreateSession();
        int[] first = Model.Tokenizer.Tokenize(Prompt);
        LlamaCompletion answer = await session.CompleteAsync(first, Greedy(8));
        int[] second = [.. first, .. answer.TokenIds, .. Model.Tokenizer.Tokenize(" And then?", addSpecial: false)];
        int nativeBefore = NativePromptTokensEvaluated(session);

        LlamaCompletion followUp = await session.CompleteAsync(second, Greedy(4));

        // Everything but the last generated token (sampled, never decoded) is reused.
        int reused = first.Length + answer.TokenIds.Count - 1;
        Assert.That(followUp.Usage.CachedPromptTokens, Is.EqualTo(reused));
        Assert.That(followUp.Usage.EvaluatedPromptTokens, Is.EqualTo(second.Length - reused));
        Assert.That(NativePromptTokensEvaluated(session) - nativeBefore, Is.EqualTo(second.Length - reused), "llama.cpp's own counter of evaluated prompt tokens");
    }

    [Test]
    public async Task TheSamePromptTwice_ReevaluatesOnlyItsLastToken_AndGivesTheSameGreedyText()
    {
        using LlamaSession session = CreateSession();
        LlamaCompletion first = await session.CompleteAsync(Prompt, Greedy(12));

        LlamaCompletion second = await session.CompleteAsync(Prompt, Greedy(12));

        Assert.That(second.Usage.EvaluatedPromptTokens, Is.EqualTo(1));
        Assert.That(second.Text, Is.EqualTo(first.Text));
    }

    [Test]
    public void PromptLongerThanTheContext_ThrowsNamingBothSizes()
    {
        using LlamaSession session = CreateSession(contextSize: 256);
        string longPrompt = string.Concat(Enumerable.Repeat("llama ", 400));

        var ex = Assert.ThrowsAsync<LlamaContextOverflowException>(() => session.CompleteAsync(longPrompt, Greedy(4)));

        Assert.That(ex!.ContextSize, Is.EqualTo(session.ContextSize));
        Assert.That(ex.PromptTokens, Is.EqualTo(Model.Tokenizer.Tokenize(longPrompt).Length));
        Assert.That(ex.Message, Does.Contain(ex.PromptTokens.ToString(System.Globalization.CultureInfo.InvariantCulture)).And.Contain("TruncatePrompt"));
    }

    [Test]
    public async Task PromptLongerThanTheContext_WithTruncation_KeepsTheBeginningOfSequenceAndTheEnd()
    {
        using LlamaSession session = CreateSession(contextSize: 256);
        string longPrompt = string.Concat(Enumerable.Repeat("llama ", 400));
        var options = Greedy(4);
        options.TruncatePrompt = true;

        LlamaCompletion completion = await session.CompleteAsync(longPrompt, options);

        Assert.That(completion.Usage.PromptTokens, Is.LessThan(session.ContextSize));
        Assert.That(completion.TokenIds, Is.Not.Empty);
    }

    [Test]
    public async Task GenerationPastTheContextSize_ContinuesUnderShift()
    {
        using LlamaSession session = CreateSession(contextSize: 256);

        LlamaCompletion completion = await session.CompleteAsync(Prompt, Greedy(600));

        Assume.That(completion.FinishReason, Is.Not.EqualTo(LlamaFinishReason.Stop), "the random model did not emit an end token");
        Assert.That(completion.TokenIds, Has.Count.EqualTo(600));
        Assert.That(completion.Usage.PromptTokens + completion.TokenIds.Count, Is.GreaterThan(session.ContextSize * 2));
        Assert.That(session.ShiftCount, Is.GreaterThan(0));
        Assert.That(session.EvaluatedTokenCount, Is.LessThanOrEqualTo(session.ContextSize));
    }

    [Test]
    public async Task GenerationFillingTheContext_UnderTheStopPolicy_EndsWithContextFull()
    {
        using LlamaSession session = CreateSession(contextSize: 256, policy: LlamaContextOverflowPolicy.Stop);

        LlamaCompletion completion = await session.CompleteAsync(Prompt, Greedy(600));

        Assume.That(completion.FinishReason, Is.Not.EqualTo(LlamaFinishReason.Stop), "the random model did not emit an end token");
        Assert.That(completion.FinishReason, Is.EqualTo(LlamaFinishReason.ContextFull));
        Assert.That(completion.Usage.PromptTokens + completion.TokenIds.Count, Is.EqualTo(session.ContextSize + 1));
    }

    private int[] RawGreedyLoop(int[] prompt, int count) => RawLoop.Greedy(Model, prompt, count);

    private static int NativePromptTokensEvaluated(LlamaSession session) => session.NativePromptTokensEvaluated();
}
