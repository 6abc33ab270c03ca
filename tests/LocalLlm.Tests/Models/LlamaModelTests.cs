namespace LocalLlm.Tests.Models;

public sealed class LlamaModelTests
{
    [Test]
    public async Task LoadAsync_VocabularyOnly_ReadsMetadata()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { VocabularyOnly = true });

        Assert.Multiple(() =>
        {
            Assert.That(model.Path, Is.EqualTo(TestEnvironment.VocabularyPath("llama-bpe")));
            Assert.That(model.Metadata.Architecture, Is.EqualTo("llama"));
            Assert.That(model.Metadata.Entries["general.architecture"], Is.EqualTo("llama"));
            Assert.That(model.Metadata.Entries, Does.ContainKey("tokenizer.ggml.model"));
            Assert.That(model.Metadata.Entries["tokenizer.ggml.model"], Is.EqualTo("gpt2"));
        });
    }

    [Test]
    public async Task Dispose_IsIdempotent_AndLaterUseThrowsObjectDisposed()
    {
        LlamaModel model = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { VocabularyOnly = true });

        model.Dispose();
        model.Dispose();

        Assert.That(model.IsDisposed, Is.True);
        var ex = Assert.Throws<ObjectDisposedException>(() => model.Tokenizer.Tokenize("hello"));
        Assert.That(ex!.ObjectName, Is.EqualTo(typeof(LlamaModel).FullName));
    }

    [Test]
    public void LoadAsync_MissingFile_ThrowsFileNotFoundNamingThePath()
    {
        string path = Path.Combine(TestEnvironment.CreateTempDirectory(), "absent.gguf");

        var ex = Assert.ThrowsAsync<FileNotFoundException>(() => LlamaModel.LoadAsync(path));

        Assert.That(ex!.FileName, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain(path).And.Contain("does not exist"));
    }

    [Test]
    public void LoadAsync_Directory_ThrowsPathIsDirectory()
    {
        string path = TestEnvironment.CreateTempDirectory();

        var ex = Assert.ThrowsAsync<LlamaModelLoadException>(() => LlamaModel.LoadAsync(path));

        Assert.That(ex!.Failure, Is.EqualTo(LlamaModelLoadFailure.PathIsDirectory));
        Assert.That(ex.ModelPath, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain(path).And.Contain("directory"));
    }

    [Test]
    public void LoadAsync_AlreadyCancelled_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.That(
            async () => await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), cancellationToken: cts.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void LoadAsync_NegativeMainGpu_ThrowsNamingTheOption()
    {
        var ex = Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { MainGpu = -2 }));

        Assert.That(ex!.ParamName, Is.EqualTo(nameof(LlamaModelOptions.MainGpu)));
        Assert.That(ex.Message, Does.Contain("-2"));
    }

    [Test]
    public void LoadAsync_UnknownArchitecture_ThrowsUnsupportedArchitectureNamingIt()
    {
        // Same-length byte patch of general.architecture: a valid GGUF whose architecture llama.cpp does not know.
        string path = Path.Combine(TestEnvironment.CreateTempDirectory(), "unknown-arch.gguf");
        byte[] bytes = File.ReadAllBytes(TestEnvironment.VocabularyPath("llama-bpe"));
        byte[] key = "general.architecture"u8.ToArray();
        int at = bytes.AsSpan().IndexOf(key) + key.Length + 4 + 8; // key, value type (u32), string length (u64)
        Assert.That(bytes.AsSpan(at, 5).ToArray(), Is.EqualTo("llama"u8.ToArray()));
        "zorba"u8.CopyTo(bytes.AsSpan(at));
        File.WriteAllBytes(path, bytes);

        var ex = Assert.ThrowsAsync<LlamaModelLoadException>(() => LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true }));

        Assert.That(ex!.Failure, Is.EqualTo(LlamaModelLoadFailure.UnsupportedArchitecture));
        Assert.That(ex.Message, Does.Contain("'zorba'").And.Contain(path));
    }
}
