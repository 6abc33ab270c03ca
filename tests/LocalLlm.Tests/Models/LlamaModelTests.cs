using LocalLlm.Gguf;

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

    [Test]
    public void LoadAsync_EmptyFile_ThrowsEmptyFileNamingThePath()
    {
        string path = WriteFile("empty.gguf", []);

        AssertRejected(path, GgufFormatError.EmptyFile);
    }

    [Test]
    public void LoadAsync_FileThatIsNotGguf_ThrowsNotGguf()
    {
        string path = WriteFile("model.gguf", "PK\u0003\u0004 this is a zip, not a model"u8.ToArray());

        AssertRejected(path, GgufFormatError.NotGguf);
    }

    [Test]
    public void LoadAsync_TruncatedGguf_ThrowsTruncated()
    {
        byte[] whole = File.ReadAllBytes(TestEnvironment.VocabularyPath("llama-bpe"));
        string path = WriteFile("truncated.gguf", whole[..(whole.Length / 2)]);

        AssertRejected(path, GgufFormatError.Truncated);
    }

    [TestCase(1u)]
    [TestCase(99u)]
    public void LoadAsync_UnsupportedGgufVersion_ThrowsUnsupportedVersionNamingIt(uint version)
    {
        byte[] bytes = File.ReadAllBytes(TestEnvironment.VocabularyPath("llama-bpe"));
        BitConverter.GetBytes(version).CopyTo(bytes, 4);
        string path = WriteFile($"v{version}.gguf", bytes);

        GgufFormatException ex = AssertRejected(path, GgufFormatError.UnsupportedVersion);
        Assert.That(ex.Message, Does.Contain(version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(TestEnvironment.CreateTempDirectory(), name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static GgufFormatException AssertRejected(string path, GgufFormatError error)
    {
        var ex = Assert.ThrowsAsync<GgufFormatException>(() => LlamaModel.LoadAsync(path));
        Assert.That(ex!.Error, Is.EqualTo(error));
        Assert.That(ex.FilePath, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain(path));
        return ex;
    }
}
