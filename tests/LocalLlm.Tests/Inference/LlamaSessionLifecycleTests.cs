using System.Diagnostics;
using LocalLlm.ModelGenerator;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Inference;

public sealed class LlamaSessionLifecycleTests : TinyModelFixture
{
    private const string Prompt = "The quick brown llama";

    [Test]
    public async Task CancellingDuringALongPromptEvaluation_StopsInsideDecode_AndTheSessionStaysUsable()
    {
        using LlamaSession session = new(Model, new LlamaContextOptions { ContextSize = 2048, BatchSize = 2048, MicroBatchSize = 2048, ThreadCount = 2 });
        int[] longPrompt = Model.Tokenizer.Tokenize(string.Concat(Enumerable.Repeat("The llama walks across the high plateau. ", 200)));
        Assume.That(longPrompt.Length, Is.GreaterThan(1500).And.LessThan(2048));
        int fullEvaluationMs = await TimePromptEvaluation(longPrompt);
        session.Reset();
        using var cts = new CancellationTokenSource();
        var stopwatch = new Stopwatch();
        cts.Token.Register(stopwatch.Start);

        Task<LlamaCompletion> completion = session.CompleteAsync(longPrompt, Greedy(4), cts.Token);
        await Task.Delay(fullEvaluationMs / 4);
        int logged = NativeTestSetup.Log.Records.Count;
        cts.Cancel();

        Assert.That(async () => await completion, Throws.InstanceOf<OperationCanceledException>());
        stopwatch.Stop();
        RecordingLoggerProvider.LogRecord[] llamaCppLines = [.. NativeTestSetup.Log.Records.Skip(logged).Where(r => r.Category == "LocalLlm.LlamaCpp")];
        Assert.That(llamaCppLines.Where(r => r.Level >= LogLevel.Warning).Select(r => r.Message), Is.Empty, "a cancelled decode is not a fault");
        Assert.That(llamaCppLines.Where(r => r.Level == LogLevel.Debug).Select(r => r.Message), Has.Some.Contains("failed to decode"), "llama.cpp's lines are kept, at Debug");
        TestContext.Out.WriteLine($"full prompt evaluation {fullEvaluationMs} ms; returned {stopwatch.Elapsed.TotalMilliseconds:F1} ms after cancel");
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(Math.Max(100, fullEvaluationMs / 2))), "cancellation reached the native decode instead of waiting for it to finish");
        Assert.That(session.LastFinishReason, Is.EqualTo(LlamaFinishReason.Cancelled));
        Assert.That(session.EvaluatedTokenCount, Is.LessThan(longPrompt.Length));

        LlamaCompletion after = await session.CompleteAsync(Prompt, Greedy(3));
        Assert.That(after.TokenIds, Has.Count.EqualTo(3));
    }

    [Test]
    public async Task TheCallersCodeAfterACompletion_RunsOffTheSessionsLoopThread_SoDisposingThereFreesTheContextAtOnce()
    {
        // Code on the loop thread cannot free the context the loop runs on, only defer it to the loop's exit: after a
        // model's RPC worker may already be gone. So each way a request ends hands the caller back to the thread pool.
        using LlamaSession session = CreateSession();
        string? loopThread = null;
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompt, Greedy(3)))
        {
            loopThread = Thread.CurrentThread.Name;
        }

        string? afterStream = Thread.CurrentThread.Name;
        await session.CompleteAsync(Prompt, Greedy(3));
        string? afterCompletion = Thread.CurrentThread.Name;
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompt, Greedy(50)))
        {
            break;
        }

        string? afterBreak = Thread.CurrentThread.Name;

        Assert.That(loopThread, Does.StartWith("LocalLlm session"), "the loop body itself runs inline on the loop thread, as designed");
        Assert.That(new[] { afterStream, afterCompletion, afterBreak }, Has.None.EqualTo(loopThread));
    }

    [Test]
    public async Task CancellingWhileGenerating_ThrowsOperationCanceled_AndTheNextGenerationWorks()
    {
        using LlamaSession session = CreateSession();
        using var cts = new CancellationTokenSource();
        int received = 0;

        Assert.That(async () =>
        {
            await foreach (string piece in session.GenerateAsync(Prompt, Greedy(10_000), cts.Token))
            {
                if (++received == 5)
                {
                    await cts.CancelAsync();
                }
            }
        }, Throws.InstanceOf<OperationCanceledException>());

        Assert.That(received, Is.LessThan(50));
        Assert.That((await session.CompleteAsync(Prompt, Greedy(3))).TokenIds, Has.Count.EqualTo(3));
    }

    [Test]
    public async Task AfterACancelledGeneration_ThePromptAndTheTokensDecodedSoFarAreReused()
    {
        using LlamaSession session = CreateSession();
        int[] prompt = Model.Tokenizer.Tokenize(Prompt);
        using var cts = new CancellationTokenSource();
        var received = new List<int>();

        Assert.That(async () =>
        {
            await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, Greedy(10_000), cts.Token))
            {
                if (update.TokenId is { } token && received.Count < 5)
                {
                    received.Add(token);
                    if (received.Count == 5)
                    {
                        await cts.CancelAsync();
                    }
                }
            }
        }, Throws.InstanceOf<OperationCanceledException>());

        // Every sampled token but the last was decoded before the cancellation took effect.
        Assert.That(session.EvaluatedTokenCount, Is.GreaterThanOrEqualTo(prompt.Length + 4));
        LlamaCompletion next = await session.CompleteAsync([.. prompt, .. received.Take(4)], Greedy(2));
        Assert.That(next.Usage.CachedPromptTokens, Is.EqualTo(prompt.Length + 3));
    }

    [Test]
    public async Task BreakingOutOfTheStream_StopsGeneration_AndFreesTheSession()
    {
        using LlamaSession session = CreateSession();
        await foreach (string piece in session.GenerateAsync(Prompt, Greedy(10_000)))
        {
            break;
        }

        Assert.That((await session.CompleteAsync(Prompt, Greedy(2))).TokenIds, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task ASecondGenerationWhileOneRuns_ThrowsInvalidOperation()
    {
        using LlamaSession session = CreateSession();
        await using IAsyncEnumerator<string> first = session.GenerateAsync(Prompt, Greedy(10_000)).GetAsyncEnumerator();
        Assert.That(await first.MoveNextAsync(), Is.True);

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => session.CompleteAsync(Prompt, Greedy(2)));
        Assert.That(ex!.Message, Does.Contain("one operation at a time"));
        Assert.That(() => session.SaveState(), Throws.InvalidOperationException);
    }

    [Test]
    public async Task RestoredState_ContinuesExactlyAsTheOriginal()
    {
        int[] prompt = Model.Tokenizer.Tokenize(Prompt);
        using LlamaSession original = CreateSession();
        LlamaCompletion firstPart = await original.CompleteAsync(prompt, Greedy(8));
        byte[] state = original.SaveState();
        string file = Path.Combine(TestEnvironment.CreateTempDirectory(), "session.bin");
        original.SaveState(file);
        int[] continuation = [.. prompt, .. firstPart.TokenIds];
        LlamaCompletion expected = await original.CompleteAsync(continuation, Greedy(8));

        using LlamaSession fromBytes = CreateSession();
        fromBytes.LoadState(state);
        using LlamaSession fromFile = CreateSession();
        fromFile.LoadState(file);

        Assert.That(fromBytes.EvaluatedTokenCount, Is.EqualTo(prompt.Length + firstPart.TokenIds.Count - 1));
        LlamaCompletion fromBytesCompletion = await fromBytes.CompleteAsync(continuation, Greedy(8));
        LlamaCompletion fromFileCompletion = await fromFile.CompleteAsync(continuation, Greedy(8));
        Assert.That(fromBytesCompletion.TokenIds, Is.EqualTo(expected.TokenIds));
        Assert.That(fromFileCompletion.TokenIds, Is.EqualTo(expected.TokenIds));
        Assert.That(fromBytesCompletion.Usage.EvaluatedPromptTokens, Is.EqualTo(1), "the restored KV cache was reused");
    }

    [Test]
    public void LoadState_FromBytesThatAreNotAState_ThrowsArgumentException()
    {
        using LlamaSession session = CreateSession();

        var ex = Assert.Throws<ArgumentException>(() => session.LoadState(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 }));

        Assert.That(ex!.ParamName, Is.EqualTo("state"));
    }

    [Test]
    public async Task LogProbabilities_ReportTheChosenTokenAndTheMostLikelyAlternatives()
    {
        using LlamaSession session = CreateSession();
        var options = Greedy(6);
        options.LogProbabilities = true;
        options.TopLogProbabilities = 5;

        await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompt, options))
        {
            if (update.TokenId is not { } token)
            {
                continue;
            }

            IReadOnlyList<LlamaTokenProbability> top = update.TopLogProbabilities!;
            Assert.That(top, Has.Count.EqualTo(5));
            Assert.That(top.Select(t => t.LogProbability), Is.Ordered.Descending);
            Assert.That(top[0].TokenId, Is.EqualTo(token), "greedy picks the most likely token");
            Assert.That(update.LogProbability, Is.EqualTo(top[0].LogProbability).Within(1e-5));
            Assert.That(top.Sum(t => Math.Exp(t.LogProbability)), Is.LessThanOrEqualTo(1.0001));
        }
    }

    [Test]
    public void Dispose_IsIdempotent_AndLaterUseThrowsObjectDisposed()
    {
        LlamaSession session = CreateSession();
        session.Dispose();
        session.Dispose();

        Assert.That(() => session.Reset(), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(async () => await session.CompleteAsync(Prompt), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public async Task DisposingTheSessionFromInsideTheStream_EndsTheStreamWithoutCrashing()
    {
        LlamaSession session = CreateSession();
        int received = 0;

        Assert.That(async () =>
        {
            await foreach (string piece in session.GenerateAsync(Prompt, Greedy(10_000)))
            {
                if (++received == 3)
                {
                    session.Dispose();
                }
            }
        }, Throws.InstanceOf<OperationCanceledException>());

        Assert.That(received, Is.LessThan(10));
        Assert.That(() => session.Reset(), Throws.TypeOf<ObjectDisposedException>());
        using LlamaSession another = CreateSession();
        Assert.That((await another.CompleteAsync(Prompt, Greedy(2))).TokenIds, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task DisposingWhileAnotherThreadStartsAGeneration_NeverLeavesItWaiting()
    {
        for (int i = 0; i < 20; i++)
        {
            LlamaSession session = CreateSession();
            Task<LlamaCompletion> started = Task.Run(() => session.CompleteAsync(Prompt, Greedy(50)));
            session.Dispose();

            Task finished = await Task.WhenAny(started, Task.Delay(TimeSpan.FromSeconds(20)));

            Assert.That(finished, Is.SameAs(started), $"attempt {i}: the generation ended");
            if (started.IsFaulted)
            {
                Assert.That(started.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>().Or.InstanceOf<OperationCanceledException>(), $"attempt {i}");
            }
        }
    }

    [Test]
    public void InvalidOptions_ThrowNamingTheSettingAndValue()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaSession(Model, new LlamaContextOptions { ThreadCount = 0 }));
        Assert.That(ex!.ParamName, Is.EqualTo("ThreadCount"));
        Assert.That(ex.Message, Does.Contain("was 0"));

        var polling = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaSession(Model, new LlamaContextOptions { ThreadPolling = 101 }));
        Assert.That(polling!.ParamName, Is.EqualTo("ThreadPolling"));

        var micro = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaSession(Model, new LlamaContextOptions { BatchSize = 64, MicroBatchSize = 128 }));
        Assert.That(micro!.ParamName, Is.EqualTo("MicroBatchSize"));

        var cache = Assert.Throws<ArgumentException>(() => new LlamaSession(Model, new LlamaContextOptions { ValueCacheType = LlamaKvCacheType.Q8_0, FlashAttention = LlamaFlashAttention.Disabled }));
        Assert.That(cache!.ParamName, Is.EqualTo("ValueCacheType"));

        using LlamaSession session = CreateSession();
        var max = Assert.Throws<ArgumentOutOfRangeException>(() => session.StreamAsync(Prompt, new LlamaGenerationOptions { MaxTokens = 0 }));
        Assert.That(max!.ParamName, Is.EqualTo("MaxTokens"));
    }

    [TestCase(LlamaKvCacheType.Q8_0)]
    [TestCase(LlamaKvCacheType.Q4_0)]
    public async Task QuantizedKvCache_Generates(LlamaKvCacheType type)
    {
        // Quantized cache blocks hold 32 values, so the heads must be at least that long: tiny's are 16.
        ModelSpec spec = ModelSpec.For(ModelShape.Tiny) with { HeadCount = 2, KeyValueHeadCount = 1, Variant = "head32" };
        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(spec));
        using LlamaSession session = new(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 2, KeyCacheType = type, ValueCacheType = type, FlashAttention = LlamaFlashAttention.Enabled });

        LlamaCompletion completion = await session.CompleteAsync(Prompt, Greedy(4));

        Assert.That(completion.TokenIds, Has.Count.EqualTo(4));
    }

    [Test]
    public void QuantizedKvCache_ThatTheModelsHeadsCannotHold_ThrowsWithLlamaCppsReason()
    {
        var ex = Assert.Throws<LlamaException>(() => new LlamaSession(Model, new LlamaContextOptions { ContextSize = 256, KeyCacheType = LlamaKvCacheType.Q8_0 }));

        Assert.That(ex!.Message, Does.Contain("256-token context").And.Contain("does not divide n_embd_head_k=16"));
    }

    private async Task<int> TimePromptEvaluation(int[] prompt)
    {
        using LlamaSession session = new(Model, new LlamaContextOptions { ContextSize = 2048, BatchSize = 2048, MicroBatchSize = 2048, ThreadCount = 2 });
        LlamaCompletion completion = await session.CompleteAsync(prompt, Greedy(1));
        return (int)completion.Usage.PromptEvaluationTime.TotalMilliseconds;
    }
}
