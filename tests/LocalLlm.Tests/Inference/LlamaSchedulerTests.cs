using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Inference;

/// <summary>Continuous batching: many requests, one context, one decode per step.</summary>
public sealed class LlamaSchedulerTests : TinyModelFixture
{
    private static readonly string[] Prompts =
    [
        "The llama walked up the mountain",
        "In the beginning there was a single token",
        "Recipe for bread: flour, water,",
        "function add(a, b) { return",
    ];

    private LlamaScheduler CreateScheduler(int parallel = 4, int queue = 64, LlamaQueueFullBehavior full = LlamaQueueFullBehavior.Wait, int chunk = 256) =>
        new(Model, new LlamaSchedulerOptions { ParallelSequences = parallel, ContextSizePerSequence = 512, ThreadCount = 2, MaxQueuedRequests = queue, QueueFullBehavior = full, PromptChunkSize = chunk });

    [Test]
    public async Task ConcurrentPrompts_EachContinueTheirOwnPrompt_ExactlyAsWhenRunAlone()
    {
        using LlamaScheduler scheduler = CreateScheduler();
        var alone = new List<IReadOnlyList<int>>();
        foreach (string prompt in Prompts)
        {
            alone.Add((await scheduler.CompleteAsync(prompt, Greedy(16))).TokenIds);
        }

        LlamaCompletion[] together = await Task.WhenAll(Prompts.Select(p => scheduler.CompleteAsync(p, Greedy(16))));

        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.That(together[i].TokenIds, Is.EqualTo(alone[i]), $"prompt {i}");
        }

        Assert.That(alone.Select(a => string.Join(',', a)).Distinct().Count(), Is.EqualTo(Prompts.Length), "the prompts lead to different continuations");
        Assert.That(together.Select(t => t.Usage.TimeToFirstToken), Has.All.Not.Null);
    }

    [Test]
    public async Task SchedulerOutput_MatchesASingleSession()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 2);
        using LlamaSession session = CreateSession();

        LlamaCompletion batched = await scheduler.CompleteAsync(Prompts[0], Greedy(12));
        LlamaCompletion single = await session.CompleteAsync(Prompts[0], Greedy(12));

        Assert.That(batched.TokenIds, Is.EqualTo(single.TokenIds));
    }

    [Test]
    public async Task CancellingOneStream_LeavesTheOthersIntact_AndTheKvCacheEndsEmpty()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 3);
        IReadOnlyList<int> expectedA = (await scheduler.CompleteAsync(Prompts[0], Greedy(20))).TokenIds;
        IReadOnlyList<int> expectedC = (await scheduler.CompleteAsync(Prompts[2], Greedy(20))).TokenIds;
        using var cancelB = new CancellationTokenSource();

        Task<LlamaCompletion> a = scheduler.CompleteAsync(Prompts[0], Greedy(20));
        Task<int> b = CountUntilCancelled(scheduler.StreamAsync(Prompts[1], Greedy(10_000), cancelB.Token), cancelB, after: 3);
        Task<LlamaCompletion> c = scheduler.CompleteAsync(Prompts[2], Greedy(20));

        Assert.That(async () => await b, Throws.InstanceOf<OperationCanceledException>());
        Assert.That((await a).TokenIds, Is.EqualTo(expectedA));
        Assert.That((await c).TokenIds, Is.EqualTo(expectedC));
        await WaitUntil(() => scheduler.ActiveRequests == 0);
        Assert.That(scheduler.SequencePositions(), Is.All.EqualTo(-1), "every sequence's KV cells were freed");
    }

    [Test]
    public async Task ALongPrompt_IsEvaluatedInChunks_WhileAnotherStreamKeepsGenerating()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 2, chunk: 32);
        string longPrompt = string.Concat(Enumerable.Repeat("The llama crossed the valley. ", 60));
        int chunks = (Model.Tokenizer.Tokenize(longPrompt).Length + 31) / 32;
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<LlamaGenerationUpdate> streaming = scheduler.StreamAsync(Prompts[0], Greedy(10_000), stop.Token).GetAsyncEnumerator();
        Assert.That(await streaming.MoveNextAsync(), Is.True, "the first stream is generating");

        LlamaCompletion longOne = await scheduler.CompleteAsync(longPrompt, Greedy(2));
        await stop.CancelAsync();

        // Every chunk of the long prompt shared its decode step with the other stream's next token.
        TestContext.Out.WriteLine($"{longOne.Usage.PromptTokens}-token prompt in {chunks} chunks; {scheduler.InterleavedSteps} steps interleaved");
        Assert.That(scheduler.InterleavedSteps, Is.GreaterThanOrEqualTo(chunks));
        Assert.That(longOne.TokenIds, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task AFullSequence_ShiftsAlone_AndTheOtherStreamContinuesExactlyAsWhenRunAlone()
    {
        using LlamaScheduler scheduler = new(Model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 128, ThreadCount = 2 });
        int context = scheduler.ContextSizePerSequence;
        IReadOnlyList<int> otherAlone = (await scheduler.CompleteAsync(Prompts[1], Greedy(context / 2))).TokenIds;

        Task<LlamaCompletion> longOne = scheduler.CompleteAsync(Prompts[0], Greedy(context * 2));
        Task<LlamaCompletion> other = scheduler.CompleteAsync(Prompts[1], Greedy(context / 2));
        LlamaCompletion shifted = await longOne;

        Assume.That(shifted.FinishReason, Is.Not.EqualTo(LlamaFinishReason.Stop), "the random model did not emit an end token");
        Assert.That(shifted.TokenIds, Has.Count.EqualTo(context * 2), "generation went on past the sequence's context");
        Assert.That(scheduler.ShiftCount, Is.GreaterThan(0));
        Assert.That((await other).TokenIds, Is.EqualTo(otherAlone), "the other sequence was not disturbed by the shift");
        await WaitUntil(() => scheduler.ActiveRequests == 0);
        Assert.That(scheduler.SequencePositions(), Is.All.EqualTo(-1));
    }

    [Test]
    public async Task AFullSequence_UnderTheStopPolicy_EndsWithContextFull()
    {
        using LlamaScheduler scheduler = new(Model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 128, ThreadCount = 2, OverflowPolicy = LlamaContextOverflowPolicy.Stop });

        LlamaCompletion completion = await scheduler.CompleteAsync(Prompts[0], Greedy(scheduler.ContextSizePerSequence * 2));

        Assume.That(completion.FinishReason, Is.Not.EqualTo(LlamaFinishReason.Stop), "the random model did not emit an end token");
        Assert.That(completion.FinishReason, Is.EqualTo(LlamaFinishReason.ContextFull));
        Assert.That(completion.Usage.PromptTokens + completion.TokenIds.Count, Is.EqualTo(scheduler.ContextSizePerSequence + 1));
        Assert.That(scheduler.ShiftCount, Is.Zero);
    }

    [Test]
    public async Task WithThePromptCache_TheNextTurnGetsTheSequenceHoldingItsStart_AndEvaluatesOnlyTheRest()
    {
        using LlamaScheduler cached = new(Model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 512, ThreadCount = 2, ReusePromptCache = true });
        using LlamaScheduler uncached = CreateScheduler(parallel: 2);
        int[] firstTurn = Model.Tokenizer.Tokenize(Prompts[0]);
        LlamaCompletion reply = await cached.CompleteAsync(firstTurn, Greedy(8));
        Assume.That(reply.FinishReason, Is.EqualTo(LlamaFinishReason.Length), "the random model did not emit an end token");
        await cached.CompleteAsync(Prompts[2], Greedy(8)); // an unrelated conversation in between takes the other sequence
        int[] secondTurn = [.. firstTurn, .. reply.TokenIds, .. Model.Tokenizer.Tokenize(" And then?", addSpecial: false)];

        LlamaCompletion next = await cached.CompleteAsync(secondTurn, Greedy(8));
        LlamaCompletion reference = await uncached.CompleteAsync(secondTurn, Greedy(8));

        // The first turn's prompt and every reply token but the last (sampled, never decoded) were still cached.
        Assert.That(next.Usage.CachedPromptTokens, Is.EqualTo(firstTurn.Length + reply.TokenIds.Count - 1));
        Assert.That(next.TokenIds, Is.EqualTo(reference.TokenIds), "continuing from the cache generates exactly what evaluating everything does");
        Assert.That(reference.Usage.CachedPromptTokens, Is.Zero);
    }

    [Test]
    public async Task AFullQueue_FailsNewRequests_WhenToldTo()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 1, queue: 1, full: LlamaQueueFullBehavior.Fail);
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<LlamaGenerationUpdate> running = scheduler.StreamAsync(Prompts[0], Greedy(10_000), stop.Token).GetAsyncEnumerator();
        Assert.That(await running.MoveNextAsync(), Is.True);
        Task<LlamaCompletion> queued = scheduler.CompleteAsync(Prompts[1], Greedy(2));

        var ex = Assert.ThrowsAsync<LlamaQueueFullException>(() => scheduler.CompleteAsync(Prompts[2], Greedy(2)));

        Assert.That(ex!.Capacity, Is.EqualTo(1));
        await stop.CancelAsync();
        Assert.That((await queued).TokenIds, Has.Count.EqualTo(2), "the queued request ran once the first one stopped");
    }

    [Test]
    public async Task MoreRequestsThanSequences_WaitTheirTurnAndAllFinish()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 2, queue: 2);

        LlamaCompletion[] results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => scheduler.CompleteAsync(Prompts[i % Prompts.Length], Greedy(4))));

        Assert.That(results.Select(r => r.TokenIds.Count), Is.All.EqualTo(4));
    }

    [Test]
    public void APromptLongerThanASequencesContext_IsRejected()
    {
        using LlamaScheduler scheduler = CreateScheduler();
        string longPrompt = string.Concat(Enumerable.Repeat("llama ", 600));

        var ex = Assert.Throws<LlamaContextOverflowException>(() => scheduler.StreamAsync(longPrompt));

        Assert.That(ex!.ContextSize, Is.EqualTo(scheduler.ContextSizePerSequence));
    }

    [Test]
    public async Task DisposingTheSchedulerFromInsideAStream_FailsTheRequestsWithoutCrashing()
    {
        LlamaScheduler scheduler = CreateScheduler(parallel: 2);
        int received = 0;

        Assert.That(async () =>
        {
            await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(Prompts[0], Greedy(10_000)))
            {
                if (++received == 3)
                {
                    scheduler.Dispose();
                }
            }
        }, Throws.InstanceOf<ObjectDisposedException>());

        Assert.That(received, Is.LessThan(10));
        using LlamaScheduler another = CreateScheduler(parallel: 1);
        Assert.That((await another.CompleteAsync(Prompts[1], Greedy(2))).TokenIds, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task DisposingTheSchedulerFromAnotherThreadWhileStreamsRun_FailsThemAsDisposed()
    {
        LlamaScheduler scheduler = CreateScheduler(parallel: 2);
        Task<LlamaCompletion>[] running = [.. Prompts.Take(3).Select(p => scheduler.CompleteAsync(p, Greedy(100_000)))];
        await WaitUntil(() => scheduler.ActiveRequests == 2);
        await Task.Delay(50);

        await Task.Run(scheduler.Dispose);

        foreach (Task<LlamaCompletion> request in running)
        {
            Assert.That(async () => await request, Throws.InstanceOf<ObjectDisposedException>(), "the two generating and the one waiting");
        }
    }

    [Test]
    public async Task ACallerWaitingSynchronouslyOnAnotherStream_InsideItsLoopBody_DoesNotDeadlockTheScheduler()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 2);
        LlamaCompletion? inner = null;
        int outerTokens = 0;

        // Bodies run on the scheduler's thread when the reader is already waiting for the update; this one then blocks
        // that thread until a second stream has finished.
        Task outer = Task.Run(async () =>
        {
            await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(Prompts[0], Greedy(16)))
            {
                outerTokens += update.TokenId is null ? 0 : 1;
                if (inner is null && OnSchedulerThread)
                {
                    inner = scheduler.CompleteAsync(Prompts[1], Greedy(8)).GetAwaiter().GetResult();
                }
            }
        });
        await outer.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.That(inner, Is.Not.Null, "a body ran on the scheduler's thread");
        Assert.That(inner!.TokenIds, Has.Count.EqualTo(8));
        Assert.That(outerTokens, Is.EqualTo(16), "the blocked stream went on once its body returned");
        Assert.That(scheduler.LoopMoves, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task ACallerBlockingInsideItsLoopBody_StallsTheOtherStreamsOnlyUntilTheLimit_AndIsLogged()
    {
        var logs = new RecordingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        using LlamaScheduler scheduler = new(Model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 512, ThreadCount = 2, CallerStallLimit = TimeSpan.FromMilliseconds(40), LoggerFactory = loggerFactory });
        using var release = new ManualResetEventSlim();
        using var blocking = new SemaphoreSlim(0);
        Task blocked = Task.Run(async () =>
        {
            bool blockedOnce = false;
            await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(Prompts[0], Greedy(16)))
            {
                if (!blockedOnce && OnSchedulerThread)
                {
                    blockedOnce = true;
                    blocking.Release();
                    release.Wait(TimeSpan.FromSeconds(60));
                }
            }
        });
        await blocking.WaitAsync(TimeSpan.FromSeconds(30));

        LlamaCompletion other = await scheduler.CompleteAsync(Prompts[1], Greedy(16)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(other.TokenIds, Has.Count.EqualTo(16));
        Assert.That(blocked.IsCompleted, Is.False, "the other stream finished while the first caller still blocked");
        release.Set();
        await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(logs.Records.Where(r => r.Level == LogLevel.Warning).Select(r => r.Message), Has.Some.Contains("held the scheduler's thread"));
    }

    [Test]
    public async Task ACallerBlockingWhenNoOtherStreamWaits_KeepsTheLoopOnItsThread()
    {
        using LlamaScheduler scheduler = new(Model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 512, ThreadCount = 2, CallerStallLimit = TimeSpan.FromMilliseconds(20) });
        bool blocked = false;

        await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(Prompts[0], Greedy(4)))
        {
            if (update.FinishReason is not null && OnSchedulerThread)
            {
                blocked = true;
                Thread.Sleep(200); // ten stall limits, with the request finished and nothing else waiting
            }
        }

        Assume.That(blocked, Is.True, "the last update's body ran on the scheduler's thread");
        Assert.That(scheduler.LoopMoves, Is.Zero, "moving would have served no one");
        Assert.That((await scheduler.CompleteAsync(Prompts[1], Greedy(2))).TokenIds, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task ALoneStreamBlockingMidway_KeepsTheLoopOnItsThread_AndIsLogged()
    {
        var logs = new RecordingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        using LlamaScheduler scheduler = new(Model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 512, ThreadCount = 2, CallerStallLimit = TimeSpan.FromMilliseconds(20), LoggerFactory = loggerFactory });
        bool blocked = false;
        int tokens = 0;

        await foreach (LlamaGenerationUpdate update in scheduler.StreamAsync(Prompts[0], Greedy(8)))
        {
            tokens += update.TokenId is null ? 0 : 1;
            if (!blocked && update.TokenId is not null && OnSchedulerThread)
            {
                blocked = true;
                Thread.Sleep(200); // its own request is the only one, still generating
            }
        }

        Assume.That(blocked, Is.True, "a body ran on the scheduler's thread");
        Assert.That(tokens, Is.EqualTo(8));
        Assert.That(scheduler.LoopMoves, Is.Zero, "the blocked stream's own request is no reason to move");
        Assert.That(logs.Records.Where(r => r.Level == LogLevel.Warning).Select(r => r.Message), Has.Some.Contains("nothing else was waiting"));
    }

    [Test]
    public async Task ARequestWhoseSamplingFails_FailsAlone()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 2);
        IReadOnlyList<int> expected = (await scheduler.CompleteAsync(Prompts[0], Greedy(12))).TokenIds;
        LlamaSamplingBuilder impossible = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar("root ::= [0-9]");
        foreach (int digit in Enumerable.Range(0, 10).SelectMany(d => Model.Tokenizer.Tokenize(d.ToString(System.Globalization.CultureInfo.InvariantCulture), addSpecial: false)))
        {
            impossible.LogitBias(digit, float.NegativeInfinity);
        }

        Task<LlamaCompletion> healthy = scheduler.CompleteAsync(Prompts[0], Greedy(12));
        Task<LlamaCompletion> failing = scheduler.CompleteAsync(Prompts[1], new LlamaGenerationOptions { MaxTokens = 12, Sampling = impossible.Build() });

        Assert.That(async () => await failing, Throws.InstanceOf<LlamaException>().With.Message.Contains("No token the grammar permits"));
        Assert.That((await healthy).TokenIds, Is.EqualTo(expected));
    }

    [Test]
    public void ATokenOutsideTheVocabulary_IsRejectedBeforeItReachesTheSharedBatch()
    {
        using LlamaScheduler scheduler = CreateScheduler();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.StreamAsync(new[] { 1, Model.Tokenizer.VocabularySize }));

        Assert.That(ex!.ParamName, Is.EqualTo("promptTokens"));
        Assert.That(ex.Message, Does.Contain(Model.Tokenizer.VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task ARequestCancelledWhileWaitingForASequence_FailsAtOnce_AndTheRunningOneGoesOn()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 1);
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<LlamaGenerationUpdate> running = scheduler.StreamAsync(Prompts[0], Greedy(100_000), stop.Token).GetAsyncEnumerator();
        Assert.That(await running.MoveNextAsync(), Is.True);
        using var cancelWaiting = new CancellationTokenSource();
        Task<LlamaCompletion> waiting = scheduler.CompleteAsync(Prompts[1], Greedy(2), cancelWaiting.Token);
        await Task.Delay(50);
        Assert.That(waiting.IsCompleted, Is.False, "every sequence is busy");

        await cancelWaiting.CancelAsync();

        Assert.That(async () => await waiting.WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<OperationCanceledException>(), "failed before the running request freed its sequence");
        Assert.That(scheduler.ActiveRequests, Is.EqualTo(1), "the running request goes on");
        await stop.CancelAsync();
    }

    [Test]
    public async Task APromptLongerThanASequencesContext_WithTruncation_IsCutToFit()
    {
        using LlamaScheduler scheduler = CreateScheduler();
        int[] longPrompt = Model.Tokenizer.Tokenize(string.Concat(Enumerable.Repeat("llama ", 600)));
        LlamaGenerationOptions options = Greedy(4);
        options.TruncatePrompt = true;

        LlamaCompletion completion = await scheduler.CompleteAsync(longPrompt, options);

        Assert.That(longPrompt, Has.Length.GreaterThan(scheduler.ContextSizePerSequence));
        Assert.That(completion.Usage.PromptTokens, Is.LessThan(scheduler.ContextSizePerSequence));
        Assert.That(completion.TokenIds, Has.Count.EqualTo(4));
    }

    [Test]
    public async Task LogProbabilities_OfABatchedStream_MatchTheSessions()
    {
        using LlamaScheduler scheduler = CreateScheduler(parallel: 2);
        using LlamaSession session = CreateSession();
        LlamaGenerationOptions options = Greedy(6);
        options.TopLogProbabilities = 3;

        Task<LlamaCompletion> beside = scheduler.CompleteAsync(Prompts[1], Greedy(6));
        List<LlamaGenerationUpdate> batched = await Tokens(scheduler.StreamAsync(Prompts[0], options));
        List<LlamaGenerationUpdate> alone = await Tokens(session.StreamAsync(Prompts[0], options));
        await beside;

        Assert.That(batched.Select(u => u.TokenId), Is.EqualTo(alone.Select(u => u.TokenId)));
        for (int i = 0; i < alone.Count; i++)
        {
            Assert.That(batched[i].LogProbability, Is.EqualTo(alone[i].LogProbability!.Value).Within(1e-3), $"token {i}");
            Assert.That(batched[i].TopLogProbabilities!.Select(t => t.TokenId), Is.EqualTo(alone[i].TopLogProbabilities!.Select(t => t.TokenId)), $"token {i}'s alternatives");
        }
    }

    [Test]
    public void InvalidOptions_ThrowNamingTheSetting()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaScheduler(Model, new LlamaSchedulerOptions { ParallelSequences = 0 }));
        var stall = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaScheduler(Model, new LlamaSchedulerOptions { CallerStallLimit = TimeSpan.Zero }));
        var polling = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaScheduler(Model, new LlamaSchedulerOptions { ThreadPolling = -1 }));

        Assert.That(polling!.ParamName, Is.EqualTo("ThreadPolling"));
        Assert.That(ex!.ParamName, Is.EqualTo("ParallelSequences"));
        Assert.That(ex.Message, Does.Contain("was 0"));
        Assert.That(stall!.ParamName, Is.EqualTo("CallerStallLimit"));
    }

    private static bool OnSchedulerThread => Thread.CurrentThread.Name?.StartsWith("LocalLlm scheduler", StringComparison.Ordinal) == true;

    private static async Task<int> CountUntilCancelled(IAsyncEnumerable<LlamaGenerationUpdate> updates, CancellationTokenSource cancel, int after)
    {
        int count = 0;
        await foreach (LlamaGenerationUpdate update in updates)
        {
            if (++count == after)
            {
                await cancel.CancelAsync();
            }
        }

        return count;
    }

    private static async Task<List<LlamaGenerationUpdate>> Tokens(IAsyncEnumerable<LlamaGenerationUpdate> updates)
    {
        var tokens = new List<LlamaGenerationUpdate>();
        await foreach (LlamaGenerationUpdate update in updates)
        {
            if (update.TokenId is not null)
            {
                tokens.Add(update);
            }
        }

        return tokens;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.That(condition(), Is.True, "condition not reached within 5 s");
    }
}
