namespace LocalLlm.Tests.Hub;

public sealed class ModelReferenceTests
{
    [TestCase("hf:bartowski/Llama-3.2-1B-Instruct-GGUF", "bartowski/Llama-3.2-1B-Instruct-GGUF", null, null, "main")]
    [TestCase("hf:owner/repo:q6_k", "owner/repo", "q6_k", null, "main")]
    [TestCase("hf:owner/repo:Q4_K_M@v1.0", "owner/repo", "Q4_K_M", null, "v1.0")]
    [TestCase("hf:owner/repo/sub/model-Q8_0.gguf", "owner/repo", null, "sub/model-Q8_0.gguf", "main")]
    [TestCase("hf:owner/repo@0123456789abcdef0123456789abcdef01234567", "owner/repo", null, null, "0123456789abcdef0123456789abcdef01234567")]
    public void HubReferences_AreRead(string text, string repository, string? tag, string? file, string revision)
    {
        LlamaModelReference reference = LlamaModelReference.Parse(text);

        Assert.Multiple(() =>
        {
            Assert.That(reference.Source, Is.EqualTo(LlamaModelSource.HuggingFace));
            Assert.That(reference.Repository, Is.EqualTo(repository));
            Assert.That(reference.Tag, Is.EqualTo(tag));
            Assert.That(reference.FilePath, Is.EqualTo(file));
            Assert.That(reference.Revision, Is.EqualTo(revision));
            Assert.That(reference.IsRemote, Is.True);
        });
    }

    [Test]
    public void PathsAndAddresses_AreRead()
    {
        Assert.Multiple(() =>
        {
            Assert.That(LlamaModelReference.Parse("models/m.gguf").Source, Is.EqualTo(LlamaModelSource.LocalFile));
            Assert.That(LlamaModelReference.Parse("/abs/m.gguf").LocalPath, Is.EqualTo("/abs/m.gguf"));
            Assert.That(LlamaModelReference.Parse("https://example.com/m.gguf").Url, Is.EqualTo(new Uri("https://example.com/m.gguf")));
        });
    }

    [TestCase("hf:", "does not name a repository")]
    [TestCase("hf:justone", "does not name a repository")]
    [TestCase("hf:owner/repo:Q4 K", "quantization tag")]
    [TestCase("hf:owner/repo@", "revision")]
    [TestCase("hf:owner/repo@../../x", "revision")]
    [TestCase("hf:owner/repo/model.bin", "ending in .gguf")]
    [TestCase("hf:owner/repo/../x.gguf", "ending in .gguf")]
    [TestCase("hf:owner/repo/m.gguf:Q4_K_M", "ending in .gguf")]
    [TestCase("hf:-bad/repo", "does not name a repository")]
    [TestCase(" ", "empty")]
    [TestCase("https://", "not a valid address")]
    public void MalformedReferences_AreRefused_SayingHow(string text, string reason)
    {
        ArgumentException? error = Assert.Throws<ArgumentException>(() => LlamaModelReference.Parse(text));
        Assert.That(error!.Message, Does.Contain(reason));
    }
}
