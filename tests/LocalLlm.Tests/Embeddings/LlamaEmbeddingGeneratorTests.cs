using System.Numerics.Tensors;
using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LocalLlm.Tests.Embeddings;

/// <summary>Embeddings from the generated BERT-shaped model (WordPiece tokenizer, mean pooling in its metadata).</summary>
public sealed class LlamaEmbeddingGeneratorTests
{
    private static readonly string[] Sentences =
    [
        "The llama is a domesticated South American camelid.",
        "Alpacas are smaller than llamas.",
        "The stock market fell sharply today.",
        "A short one.",
        "Machine learning models turn text into vectors so that similar meanings end up close together.",
    ];

    private LlamaModel _model = null!;

    [OneTimeSetUp]
    public async Task LoadEmbeddingModel() => _model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Embedding));

    [OneTimeTearDown]
    public void DisposeModel() => _model?.Dispose();

    [Test]
    public async Task Vectors_HaveTheModelsSize_AndUnitLength_UsingThePoolingInTheMetadata()
    {
        using var generator = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2 });

        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(Sentences);

        Assert.That(embeddings, Has.Count.EqualTo(Sentences.Length));
        Assert.That(embeddings.Select(e => e.Vector.Length), Is.All.EqualTo(_model.Metadata.EmbeddingSize));
        Assert.That(embeddings.Select(e => TensorPrimitives.Norm(e.Vector.Span)), Is.All.EqualTo(1f).Within(1e-4));
        Assert.That(generator.Pooling, Is.EqualTo(LlamaPooling.Mean));
        Assert.That(embeddings.Usage!.InputTokenCount, Is.EqualTo(Sentences.Sum(s => _model.Tokenizer.Tokenize(s).Length)));
    }

    [Test]
    public async Task ASmallContext_SplitsTheInputsOverDecodes_WithTheSameVectors()
    {
        // llama.cpp rounds a 64-token context up to 256 but keeps the 64-token micro-batch, which an encoder's batch
        // must fit: filling the rounded context aborted the process.
        using var small = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, ContextSize = 64 });
        using var large = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2 });

        string[] inputs = [.. Sentences, .. Sentences];
        GeneratedEmbeddings<Embedding<float>> split = await small.GenerateAsync(inputs);
        GeneratedEmbeddings<Embedding<float>> whole = await large.GenerateAsync(inputs);

        Assert.That(inputs.Sum(s => _model.Tokenizer.Tokenize(s).Length), Is.GreaterThan(64));
        Assert.That(small.DecodeCalls, Is.GreaterThan(1));
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.That(split[i].Vector.ToArray(), Is.EqualTo(whole[i].Vector.ToArray()).Within(1e-4), $"sentence {i}");
        }
    }

    [Test]
    public async Task DisposingDuringALongCall_StopsIt_AndFailsItAsDisposed()
    {
        string[] inputs = [.. Enumerable.Range(0, 300).Select(i => $"Sentence {i}: " + string.Concat(Enumerable.Repeat("the llama crosses the plateau ", 12)))];
        var timer = System.Diagnostics.Stopwatch.StartNew();
        using (var reference = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, MaxSequencesPerBatch = 1 }))
        {
            await reference.GenerateAsync(inputs);
        }

        TimeSpan full = timer.Elapsed;
        var generator = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, MaxSequencesPerBatch = 1 });
        await generator.GenerateAsync(["warm up"]);
        int warm = generator.DecodeCalls;
        Task<GeneratedEmbeddings<Embedding<float>>> running = generator.GenerateAsync(inputs);

        // Disposed once the long call is under way (a few of its 300 decodes done), not after a guessed time: on a
        // busy machine a guess can come after the call has finished.
        while (generator.DecodeCalls < warm + 5 && !running.IsCompleted)
        {
            await Task.Delay(1);
        }

        timer.Restart();
        await Task.Run(generator.Dispose);
        TimeSpan disposing = timer.Elapsed;

        Assert.That(async () => await running, Throws.InstanceOf<ObjectDisposedException>());
        TestContext.Out.WriteLine($"a full call took {full.TotalMilliseconds:F0} ms; Dispose returned after {disposing.TotalMilliseconds:F0} ms");
        Assert.That(disposing, Is.LessThan(full / 2), "Dispose stopped the call instead of waiting for it");
    }

    [Test]
    public async Task TheSameText_GivesTheSameVector()
    {
        using var generator = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2 });

        Embedding<float> first = (await generator.GenerateAsync([Sentences[0]]))[0];
        Embedding<float> second = (await generator.GenerateAsync([Sentences[0]]))[0];

        Assert.That(second.Vector.ToArray(), Is.EqualTo(first.Vector.ToArray()));
    }

    [Test]
    public async Task ManyInputsInOneBatch_GiveTheSameVectorsAsOneByOne()
    {
        using var batched = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, MaxSequencesPerBatch = 16 });
        using var single = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, MaxSequencesPerBatch = 1 });

        GeneratedEmbeddings<Embedding<float>> together = await batched.GenerateAsync(Sentences);
        for (int i = 0; i < Sentences.Length; i++)
        {
            Embedding<float> alone = (await single.GenerateAsync([Sentences[i]]))[0];
            Assert.That(together[i].Vector.ToArray(), Is.EqualTo(alone.Vector.ToArray()).Within(1e-4f), $"sentence {i}");
        }

        Assert.That(TensorPrimitives.CosineSimilarity(together[0].Vector.Span, together[2].Vector.Span), Is.LessThan(0.9999f), "different texts give different vectors");
    }

    [Test]
    public async Task ConcurrentRequests_ShareDecodeCalls_AndEachGetsItsOwnVectors()
    {
        using var generator = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, MaxSequencesPerBatch = 16 });
        Embedding<float>[] alone = [.. await generator.GenerateAsync(Sentences)];
        string[] many = [.. Enumerable.Range(0, 64).Select(i => $"{Sentences[i % Sentences.Length]} ({i})")];
        int before = generator.DecodeCalls;

        // The 64-input request takes four full decodes; the single-sentence requests arriving meanwhile share the next.
        Task<GeneratedEmbeddings<Embedding<float>>> large = generator.GenerateAsync(many);
        Task<GeneratedEmbeddings<Embedding<float>>>[] singles = [.. Enumerable.Range(0, 8).Select(i => generator.GenerateAsync([Sentences[i % Sentences.Length]]))];
        await Task.WhenAll([large, .. singles]);

        int decodes = generator.DecodeCalls - before;
        TestContext.Out.WriteLine($"1 request of 64 inputs + 8 of one input: {decodes} decode calls (one at a time: 12)");
        Assert.That(decodes, Is.LessThanOrEqualTo(6));
        for (int i = 0; i < singles.Length; i++)
        {
            Assert.That((await singles[i]).Single().Vector.ToArray(), Is.EqualTo(alone[i % Sentences.Length].Vector.ToArray()).Within(1e-4f), $"request {i}");
        }

        Assert.That((await large).Count, Is.EqualTo(64));
    }

    [Test]
    public async Task CancellingOneRequest_LeavesTheConcurrentOnesIntact()
    {
        using var generator = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, MaxSequencesPerBatch = 4 });
        Embedding<float>[] alone = [.. await generator.GenerateAsync(Sentences)];
        using var cancel = new CancellationTokenSource();

        Task<GeneratedEmbeddings<Embedding<float>>> cancelled = generator.GenerateAsync(Enumerable.Repeat(Sentences[4], 64), cancellationToken: cancel.Token);
        Task<GeneratedEmbeddings<Embedding<float>>> kept = generator.GenerateAsync(Sentences);
        await cancel.CancelAsync();

        Assert.That(async () => await cancelled, Throws.InstanceOf<OperationCanceledException>());
        GeneratedEmbeddings<Embedding<float>> result = await kept;
        for (int i = 0; i < Sentences.Length; i++)
        {
            Assert.That(result[i].Vector.ToArray(), Is.EqualTo(alone[i].Vector.ToArray()).Within(1e-4f), $"sentence {i}");
        }
    }

    [Test]
    public async Task WithoutNormalisation_VectorsKeepTheirLength()
    {
        using var generator = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, Normalize = false, Pooling = LlamaPooling.Cls });

        Embedding<float> embedding = (await generator.GenerateAsync([Sentences[1]]))[0];

        Assert.That(generator.Pooling, Is.EqualTo(LlamaPooling.Cls));
        Assert.That(TensorPrimitives.Norm(embedding.Vector.Span), Is.Not.EqualTo(1f).Within(1e-3));
    }

    [Test]
    public async Task AnInputLongerThanTheContext_IsRejected_OrTruncatedWhenAsked()
    {
        string longText = string.Concat(Enumerable.Repeat("llamas graze on the high plains ", 100));
        using var strict = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2 });
        using var truncating = new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { ThreadCount = 2, TruncateInputs = true });

        var ex = Assert.ThrowsAsync<LlamaContextOverflowException>(() => strict.GenerateAsync([longText]));
        Embedding<float> truncated = (await truncating.GenerateAsync([longText]))[0];

        Assert.That(ex!.ContextSize, Is.EqualTo(_model.Metadata.TrainedContextLength));
        Assert.That(truncated.Vector.Length, Is.EqualTo(_model.Metadata.EmbeddingSize));
    }

    [Test]
    public async Task Metadata_ReportsTheProviderModelAndDimensions()
    {
        using var generator = new LlamaEmbeddingGenerator(_model);
        await generator.GenerateAsync(["hello"]);

        EmbeddingGeneratorMetadata metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;

        Assert.That(metadata.ProviderName, Is.EqualTo("LocalLlm"));
        Assert.That(metadata.DefaultModelDimensions, Is.EqualTo(_model.Metadata.EmbeddingSize));
        Assert.That(generator.GetService<LlamaModel>(), Is.SameAs(_model));
    }

    [Test]
    public void InvalidOptions_ThrowNamingTheSetting()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaEmbeddingGenerator(_model, new LlamaEmbeddingOptions { MaxSequencesPerBatch = 0 }));

        Assert.That(ex!.ParamName, Is.EqualTo("MaxSequencesPerBatch"));
        Assert.That(ex.Message, Does.Contain("was 0"));
    }

    [Test]
    public async Task AddLocalLlm_RegistersTheEmbeddingGenerator()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddLocalLlm(o => { o.ModelPath = _model.Path; o.ThreadCount = 2; });
        using IHost host = builder.Build();
        await host.StartAsync();

        IEmbeddingGenerator<string, Embedding<float>> generator = host.Services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(["hello", "world"]);

        Assert.That(embeddings, Has.Count.EqualTo(2));
        Assert.That(embeddings[0].Vector.Length, Is.EqualTo(_model.Metadata.EmbeddingSize));
    }
}
