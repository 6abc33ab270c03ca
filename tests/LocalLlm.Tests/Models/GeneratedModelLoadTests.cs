using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Models;

/// <summary>Loads the generated models (real weights layout, real tokenizer) through llama.cpp.</summary>
public sealed class GeneratedModelLoadTests
{
    [Test]
    public async Task LoadAsync_Tiny_ReportsTheShapeItWasWrittenWith()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        GgufFile gguf = GgufFile.Read(path);

        using LlamaModel model = await LlamaModel.LoadAsync(path);

        LlamaModelMetadata metadata = model.Metadata;
        Assert.Multiple(() =>
        {
            Assert.That(metadata.Architecture, Is.EqualTo("llama"));
            Assert.That(metadata.LayerCount, Is.EqualTo((int)gguf.GetValue<uint>("llama.block_count")));
            Assert.That(metadata.EmbeddingSize, Is.EqualTo((int)gguf.GetValue<uint>("llama.embedding_length")));
            Assert.That(metadata.HeadCount, Is.EqualTo((int)gguf.GetValue<uint>("llama.attention.head_count")));
            Assert.That(metadata.KeyValueHeadCount, Is.EqualTo((int)gguf.GetValue<uint>("llama.attention.head_count_kv")));
            Assert.That(metadata.TrainedContextLength, Is.EqualTo((int)gguf.GetValue<uint>("llama.context_length")));
            Assert.That(metadata.Name, Is.EqualTo(gguf.GetValue<string>("general.name")));
            Assert.That(metadata.ChatTemplate, Is.EqualTo(gguf.GetValue<string>("tokenizer.chat_template")));
            Assert.That(metadata.ParameterCount, Is.EqualTo(gguf.Tensors.Sum(t => t.ElementCount)));
            Assert.That(metadata.SizeInBytes, Is.EqualTo(gguf.Tensors.Sum(t => t.SizeInBytes)));
            Assert.That(metadata.HasDecoder, Is.True);
            Assert.That(metadata.Entries["llama.block_count"], Is.EqualTo(metadata.LayerCount.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(model.Tokenizer.EndOfTurnToken, Is.EqualTo(128009));
            Assert.That(model.Tokenizer.IsEndOfGeneration(128009), Is.True);
        });
    }

    [Test]
    public async Task LoadAsync_ReportsProgressUpToCompletion()
    {
        var reports = new List<float>();

        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny), progress: new SynchronousProgress(reports.Add));

        Assert.That(reports, Is.Not.Empty);
        Assert.That(reports, Is.Ordered);
        Assert.That(reports[^1], Is.EqualTo(1f));
    }

    [Test]
    public async Task LoadAsync_CancelledWhileLoading_StopsThroughTheProgressCallbackAndThrows()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        using var cts = new CancellationTokenSource();
        var reports = new List<float>();

        Assert.That(
            async () => await LlamaModel.LoadAsync(path, progress: new SynchronousProgress(p => { reports.Add(p); cts.Cancel(); }), cancellationToken: cts.Token),
            Throws.InstanceOf<OperationCanceledException>());

        // llama.cpp stopped at the first report rather than finishing the load, and the process carries on.
        Assert.That(reports, Has.Count.EqualTo(1));
        using LlamaModel again = await LlamaModel.LoadAsync(path);
        Assert.That(again.Metadata.Architecture, Is.EqualTo("llama"));
    }

    [TestCase(LlamaQuantizationType.Q8_0, "Q8_0")]
    [TestCase(LlamaQuantizationType.Q4_0, "Q4_0")]
    [TestCase(LlamaQuantizationType.Q4_K_M, "Q4_K - Medium")]
    public async Task LoadAsync_QuantizedTiny_ReportsItsFileType(LlamaQuantizationType type, string fileType)
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny, new LlamaCppQuantizer(type));

        using LlamaModel model = await LlamaModel.LoadAsync(path);

        Assert.That(model.Metadata.FileType, Is.EqualTo(fileType));
        Assert.That(GgufFile.Read(path).GetValue<uint>("general.file_type"), Is.EqualTo((uint)type));
    }

    [Test]
    public async Task LoadAsync_EmbeddingModel_IsABertEncoder()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Embedding));

        Assert.That(model.Metadata.Architecture, Is.EqualTo("bert"));
        Assert.That(model.Metadata.Entries["bert.pooling_type"], Is.EqualTo("1"));
        Assert.That(model.Tokenizer.VocabularyType, Is.EqualTo(LlamaVocabularyType.WordPiece));
    }

    [Test]
    public void Quantize_MissingInput_ThrowsFileNotFound()
    {
        string missing = Path.Combine(TestEnvironment.CreateTempDirectory(), "missing.gguf");

        var ex = Assert.Throws<FileNotFoundException>(() => LlamaQuantizer.Quantize(missing, missing + ".q4", LlamaQuantizationType.Q4_0));

        Assert.That(ex!.FileName, Is.EqualTo(missing));
    }

    [Test]
    public void Quantize_UndefinedType_ThrowsNamingTheValue()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LlamaQuantizer.Quantize("a.gguf", "b.gguf", (LlamaQuantizationType)5));

        Assert.That(ex!.ParamName, Is.EqualTo("type"));
        Assert.That(ex.Message, Does.Contain("5"));
    }

    /// <summary>Reports on the calling (loader) thread, unlike <see cref="Progress{T}"/>, so the test sees every value in order.</summary>
    private sealed class SynchronousProgress(Action<float> report) : IProgress<float>
    {
        public void Report(float value) => report(value);
    }
}
