using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LocalLlm.Tests.Embeddings;

/// <summary>Reranking with the generated BGE-reranker-shaped model (WordPiece, rank pooling, a classification head).</summary>
public sealed class LlamaRerankerTests
{
    private const string Query = "What do llamas eat?";

    private static readonly string[] Documents =
    [
        "Llamas graze on grass and hay.",
        "The stock market fell sharply today.",
        "Alpacas and llamas are camelids from South America.",
        "A short one.",
        "Machine learning models turn text into vectors so that similar meanings end up close together.",
        "Hay, grass and some grain make up a llama's diet.",
    ];

    private LlamaModel _model = null!;

    [OneTimeSetUp]
    public async Task LoadReranker() => _model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Reranker));

    [OneTimeTearDown]
    public void DisposeModel() => _model?.Dispose();

    [Test]
    public async Task ManyPairsPerDecode_ScoreAsOneByOne_AndComeBackBestFirst()
    {
        using var batched = new LlamaReranker(_model, new LlamaRerankerOptions { ThreadCount = 2, MaxSequencesPerBatch = 16 });
        using var single = new LlamaReranker(_model, new LlamaRerankerOptions { ThreadCount = 2, MaxSequencesPerBatch = 1 });

        IReadOnlyList<LlamaRerankResult> together = await batched.RerankAsync(Query, Documents);
        IReadOnlyList<LlamaRerankResult> alone = await single.RerankAsync(Query, Documents);

        Assert.Multiple(() =>
        {
            Assert.That(together.Select(r => r.Index).Order(), Is.EqualTo(Enumerable.Range(0, Documents.Length)), "every document once");
            Assert.That(together.Select(r => r.Score), Is.Ordered.Descending);
            Assert.That(together.Select(r => r.Score).Distinct().Count(), Is.EqualTo(Documents.Length), "different pairs score differently");
            foreach (LlamaRerankResult result in together)
            {
                Assert.That(result.Score, Is.EqualTo(alone.Single(r => r.Index == result.Index).Score).Within(1e-4), $"document {result.Index}");
            }
        });
    }

    [Test]
    public async Task TheBestN_AreTheFirstNOfTheWholeRanking()
    {
        using var reranker = new LlamaReranker(_model, new LlamaRerankerOptions { ThreadCount = 2 });

        IReadOnlyList<LlamaRerankResult> all = await reranker.RerankAsync(Query, Documents);
        IReadOnlyList<LlamaRerankResult> top = await reranker.RerankAsync(Query, Documents, topN: 2);

        Assert.That(top, Is.EqualTo(all.Take(2)));
    }

    [Test]
    public async Task APairIsTheQueryThenTheDocument_WithTheModelsSpecialTokens()
    {
        using var reranker = new LlamaReranker(_model, new LlamaRerankerOptions { ThreadCount = 2 });
        LlamaTokenizer tokenizer = _model.Tokenizer;

        LlamaRerankResult result = (await reranker.RerankAsync(Query, [Documents[0]])).Single();
        IReadOnlyList<LlamaRerankResult> swapped = await reranker.RerankAsync(Documents[0], [Query]);

        // BERT's vocabulary adds [CLS] first and [SEP] between the two texts (llama-server's layout).
        Assert.That(tokenizer.AddsBeginningOfSequence && tokenizer.AddsSeparator, Is.True);
        Assert.That(result.TokenCount, Is.EqualTo(tokenizer.Tokenize(Query, addSpecial: false).Length + tokenizer.Tokenize(Documents[0], addSpecial: false).Length + 2));
        Assert.That(swapped.Single().Score, Is.Not.EqualTo(result.Score), "the order of query and document matters to a cross-encoder");
    }

    [Test]
    public async Task APairLongerThanTheContext_IsRefused_OrCutWhenAsked()
    {
        string longDocument = string.Concat(Enumerable.Repeat("llamas eat grass and hay every day ", 40));
        using var strict = new LlamaReranker(_model, new LlamaRerankerOptions { ThreadCount = 2, ContextSize = 64 });
        using var cutting = new LlamaReranker(_model, new LlamaRerankerOptions { ThreadCount = 2, ContextSize = 64, TruncateInputs = true });

        Assert.ThrowsAsync<LlamaContextOverflowException>(() => strict.RerankAsync(Query, [Documents[0], longDocument]));
        IReadOnlyList<LlamaRerankResult> cut = await cutting.RerankAsync(Query, [Documents[0], longDocument]);

        Assert.That(cut.Single(r => r.Index == 1).TokenCount, Is.EqualTo(64));
        Assert.That(cut.Single(r => r.Index == 0).TokenCount, Is.LessThan(64));
    }

    [Test]
    public void BadInput_IsNamed()
    {
        using var reranker = new LlamaReranker(_model);

        Assert.Multiple(() =>
        {
            Assert.That(() => reranker.RerankAsync(null!, Documents), Throws.ArgumentNullException);
            Assert.That(() => reranker.RerankAsync(Query, ["fine", null!]), Throws.ArgumentNullException.With.Message.Contains("documents[1]"));
            Assert.That(() => reranker.RerankAsync(Query, Documents, topN: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => new LlamaReranker(_model, new LlamaRerankerOptions { MaxSequencesPerBatch = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public async Task AModelWithoutRankPooling_IsNamed_AndTheRerankerIsNoEmbeddingModel()
    {
        using LlamaModel embedding = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Embedding));
        using var notAReranker = new LlamaReranker(embedding);
        using var notAnEmbedder = new LlamaEmbeddingGenerator(_model);

        NotSupportedException? first = Assert.ThrowsAsync<NotSupportedException>(() => notAReranker.RerankAsync(Query, Documents));
        NotSupportedException? second = Assert.ThrowsAsync<NotSupportedException>(() => notAnEmbedder.GenerateAsync(["text"]));

        Assert.That(first!.Message, Does.Contain("not a reranker").And.Contain("Mean").And.Contain("rank pooling"));
        Assert.That(second!.Message, Does.Contain("is a reranker").And.Contain("LlamaReranker"));
    }

    [Test]
    public async Task AddLocalLlm_RegistersTheReranker_ForARerankingModel()
    {
        var services = new ServiceCollection();
        services.AddLocalLlm(o =>
        {
            o.ModelPath = GeneratedModels.Ensure(ModelShape.Reranker);
            o.ThreadCount = 2;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        IReadOnlyList<LlamaRerankResult> ranked = await provider.GetRequiredService<LlamaReranker>().RerankAsync(Query, Documents, topN: 3);

        Assert.That(ranked, Has.Count.EqualTo(3));
        Assert.That(ranked.Select(r => r.Score), Is.Ordered.Descending);
    }
}
