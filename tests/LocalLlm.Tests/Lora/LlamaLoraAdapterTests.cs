using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;

namespace LocalLlm.Tests.Lora;

/// <summary>
/// LoRA adapters of the tiny model's real shapes (random low-rank A and B on each layer's query, value and FFN-down
/// projections), written by the model generator: what they change, what gives the base model back, how two compose,
/// and requests with different adapters side by side.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LlamaLoraAdapterTests
{
    private static readonly string[] Prompts = ["The llama walks across the high plateau", "Once upon a time, in a small village,"];

    private string _directory = null!;
    private LlamaModel _model = null!;
    private LlamaLoraAdapter _first = null!;
    private LlamaLoraAdapter _second = null!;
    private LlamaLoraAdapter _stacked = null!;

    [OneTimeSetUp]
    public async Task WriteAndLoadAdapters()
    {
        _directory = TestEnvironment.CreateTempDirectory();
        _model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));
        var first = new LoraPart(Rank: 2, Seed: 1, StandardDeviation: 0.3f);
        var second = new LoraPart(Rank: 3, Seed: 2, StandardDeviation: 0.3f);
        _first = LlamaLoraAdapter.Load(_model, LoraAdapterWriter.Write(Path.Combine(_directory, "first.gguf"), ModelShape.Tiny, [first]));
        _second = LlamaLoraAdapter.Load(_model, LoraAdapterWriter.Write(Path.Combine(_directory, "second.gguf"), ModelShape.Tiny, [second]));
        _stacked = LlamaLoraAdapter.Load(_model, LoraAdapterWriter.Write(Path.Combine(_directory, "stacked.gguf"), ModelShape.Tiny, [first, second]));
    }

    [OneTimeTearDown]
    public void Free()
    {
        _first?.Dispose();
        _second?.Dispose();
        _stacked?.Dispose();
        _model?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public void AnAdapter_ReadsItsMetadata()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_first.Metadata["general.type"], Is.EqualTo("adapter"));
            Assert.That(_first.Metadata["adapter.type"], Is.EqualTo("lora"));
            Assert.That(_first.Metadata["general.architecture"], Is.EqualTo("llama"));
            Assert.That(_first.Alpha, Is.Null, "no alpha: a scale applies as given");
            Assert.That(_first.Model, Is.SameAs(_model));
        });
    }

    [Test]
    public async Task AnAdapter_ChangesTheLogits_AndScaleZeroOrNoAdapterGiveTheBaseTokensExactly()
    {
        using var session = new LlamaSession(_model, Context());
        foreach (string prompt in Prompts)
        {
            Run plain = await Complete(session, prompt);
            Run adapted = await Complete(session, prompt, new LlamaLoraApplication(_first, 1f));
            Run zero = await Complete(session, prompt, new LlamaLoraApplication(_first, 0f));
            Run removed = await Complete(session, prompt);

            Assert.Multiple(() =>
            {
                Assert.That(adapted.LogProbabilities[0], Is.Not.EqualTo(plain.LogProbabilities[0]), "the adapter moved the first token's probability");
                Assert.That(zero.TokenIds, Is.EqualTo(plain.TokenIds), "scale 0");
                Assert.That(removed.TokenIds, Is.EqualTo(plain.TokenIds), "no adapter after one");
                Assert.That(removed.LogProbabilities, Is.EqualTo(plain.LogProbabilities));
            });
        }
    }

    [Test]
    public async Task TwoAdapters_ComposeAsTheAdapterStackingThem()
    {
        using var session = new LlamaSession(_model, Context());
        foreach (string prompt in Prompts)
        {
            Run together = await Complete(session, prompt, new LlamaLoraApplication(_first), new LlamaLoraApplication(_second));
            Run stacked = await Complete(session, prompt, new LlamaLoraApplication(_stacked));
            Run firstOnly = await Complete(session, prompt, new LlamaLoraApplication(_first));

            Assert.Multiple(() =>
            {
                Assert.That(together.TokenIds, Is.EqualTo(stacked.TokenIds), "B1·A1 + B2·A2 = [B1 B2]·[A1; A2]");
                Assert.That(together.LogProbabilities, Is.EqualTo(stacked.LogProbabilities).Within(1e-3));
                Assert.That(together.LogProbabilities[0], Is.Not.EqualTo(firstOnly.LogProbabilities[0]), "the second adapter counts");
            });
        }
    }

    [Test]
    public async Task RequestsWithDifferentAdapters_SideBySide_EachGetWhatTheyWouldAlone()
    {
        LlamaLoraApplication[][] adapters = [[], [new(_first)], [new(_second, 0.5f)], [new(_first), new(_second)]];
        var alone = new List<IReadOnlyList<int>>();
        using (var session = new LlamaSession(_model, Context()))
        {
            foreach (LlamaLoraApplication[] set in adapters)
            {
                alone.Add((await Complete(session, Prompts[0], set)).TokenIds);
            }
        }

        using var scheduler = new LlamaScheduler(_model, new LlamaSchedulerOptions { ParallelSequences = 4, ContextSizePerSequence = 256, ThreadCount = 1 });
        LlamaCompletion[] together = await Task.WhenAll(adapters.Select(set => scheduler.CompleteAsync(Prompts[0], Greedy(set))));

        Assert.That(together.Select(c => c.TokenIds), Is.EqualTo(alone));
        Assert.That(alone.Distinct(new SequenceComparer()).Count(), Is.GreaterThan(1), "the adapters lead to different tokens");
    }

    [Test]
    public async Task TheChatClient_TakesAdaptersPerRequest()
    {
        using var chat = new LlamaChatClient(_model, new LlamaChatClientOptions { Context = Context() });
        ChatResponse plain = await chat.GetResponseAsync("Hello", new ChatOptions { Temperature = 0, MaxOutputTokens = 8 });
        ChatResponse zero = await chat.GetResponseAsync("Hello", new ChatOptions { Temperature = 0, MaxOutputTokens = 8, AdditionalProperties = new() { ["lora"] = new[] { new LlamaLoraApplication(_first, 0f) } } });

        Assert.That(zero.Text, Is.EqualTo(plain.Text));
        Assert.That(() => chat.GetResponseAsync("Hello", new ChatOptions { AdditionalProperties = new() { ["lora"] = "first.gguf" } }), Throws.ArgumentException.With.Message.Contains("'lora'"));
    }

    [Test]
    public async Task BadAdapters_AndBadScales_AreNamed()
    {
        string notALora = GeneratedModels.Ensure(ModelShape.Tiny);
        string otherArchitecture = LoraAdapterWriter.Write(Path.Combine(_directory, "qwen2.gguf"), ModelShape.Tiny, [new LoraPart(2, 3)], architecture: "qwen2");
        string otherShape = LoraAdapterWriter.Write(Path.Combine(_directory, "wide.gguf"), ModelShape.Tiny, [new LoraPart(2, 4)], inputWidthChange: 8);
        using var session = new LlamaSession(_model, Context());
        using LlamaModel other = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));
        using LlamaLoraAdapter foreign = LlamaLoraAdapter.Load(other, Path.Combine(_directory, "first.gguf"));
        LlamaLoraAdapter disposed = LlamaLoraAdapter.Load(_model, Path.Combine(_directory, "first.gguf"));
        disposed.Dispose();
        disposed.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(() => LlamaLoraAdapter.Load(_model, notALora), Throws.InstanceOf<LlamaException>().With.Message.Contains("general.type").And.Message.Contains(notALora));
            Assert.That(() => LlamaLoraAdapter.Load(_model, otherArchitecture), Throws.InstanceOf<LlamaException>().With.Message.Contains("arch"));
            Assert.That(() => LlamaLoraAdapter.Load(_model, otherShape), Throws.InstanceOf<LlamaException>().With.Message.Contains("incorrect shape"));
            Assert.That(() => LlamaLoraAdapter.Load(_model, Path.Combine(_directory, "missing.gguf")), Throws.InstanceOf<FileNotFoundException>());
            Assert.That(() => session.CompleteAsync("Hi", Greedy([new(_first, 1000f)])), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Scale"));
            Assert.That(() => session.CompleteAsync("Hi", Greedy([new(_first, float.NaN)])), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => session.CompleteAsync("Hi", Greedy([new(_first), new(_first)])), Throws.ArgumentException.With.Message.Contains("twice"));
            Assert.That(() => session.CompleteAsync("Hi", Greedy([new(foreign)])), Throws.ArgumentException.With.Message.Contains("was loaded for model"));
            Assert.That(() => session.CompleteAsync("Hi", Greedy([new(disposed)])), Throws.InstanceOf<ObjectDisposedException>());
        });

        LlamaCompletion after = await session.CompleteAsync("Hi", Greedy([]));
        Assert.That(after.TokenIds, Is.Not.Empty, "the session works on after the refusals");
    }

    private static LlamaContextOptions Context() => new() { ContextSize = 256, ThreadCount = 1 };

    private static LlamaGenerationOptions Greedy(LlamaLoraApplication[] adapters) => new()
    {
        MaxTokens = 12,
        Sampling = LlamaSamplingOptions.Greedy,
        LogProbabilities = true,
        Adapters = adapters,
    };

    private static async Task<Run> Complete(LlamaSession session, string prompt, params LlamaLoraApplication[] adapters)
    {
        session.Reset();
        var tokens = new List<int>();
        var logProbabilities = new List<float>();
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, Greedy(adapters)))
        {
            if (update.TokenId is { } token)
            {
                tokens.Add(token);
                logProbabilities.Add(update.LogProbability ?? float.NaN);
            }
        }

        return new Run(tokens, [.. logProbabilities]);
    }

    private sealed record Run(IReadOnlyList<int> TokenIds, float[] LogProbabilities);

    private sealed class SequenceComparer : IEqualityComparer<IReadOnlyList<int>>
    {
        public bool Equals(IReadOnlyList<int>? x, IReadOnlyList<int>? y) => x!.SequenceEqual(y!);

        public int GetHashCode(IReadOnlyList<int> obj) => obj.Count;
    }
}
