using LocalLlm.Gguf;

namespace LocalLlm.Tests.Gguf;

/// <summary>Reads the real vocabulary GGUFs that ship in llama.cpp's models/ folder.</summary>
public sealed class GgufVocabFileTests
{
    private static IEnumerable<TestCaseData> VocabFiles() =>
        TestEnvironment.AllVocabularyFiles().Select(p => new TestCaseData(p).SetArgDisplayNames(Path.GetFileName(p)));

    [TestCaseSource(nameof(VocabFiles))]
    public void EveryVocabFileReadsWithConsistentTokenizer(string path)
    {
        GgufFile file = GgufFile.Read(path);

        string[] tokens = file.GetValue<string[]>("tokenizer.ggml.tokens");
        Assert.Multiple(() =>
        {
            Assert.That(file.Version, Is.EqualTo(2u).Or.EqualTo(3u));
            Assert.That(file.Architecture, Is.Not.Null.And.Not.Empty);
            Assert.That(file.FileLength, Is.EqualTo(new FileInfo(path).Length));
            Assert.That(file.DataOffset, Is.LessThanOrEqualTo(file.FileLength));
            Assert.That(tokens, Is.Not.Empty);
            Assert.That(file["tokenizer.ggml.model"].Type, Is.EqualTo(GgufValueType.String));
            if (file.TryGetValue("tokenizer.ggml.token_type", out GgufMetadataEntry? types))
            {
                Assert.That(types.ArrayLength, Is.EqualTo(tokens.Length));
            }
        });
    }

    [Test]
    public void LlamaBpeVocabIsLlama3()
    {
        GgufFile file = GgufFile.Read(TestEnvironment.VocabularyPath("llama-bpe"));

        Assert.Multiple(() =>
        {
            Assert.That(file.Architecture, Is.EqualTo("llama"));
            Assert.That(file.GetValue<string[]>("tokenizer.ggml.tokens"), Has.Length.EqualTo(128256));
            Assert.That(file.GetValue<string[]>("tokenizer.ggml.tokens")[128009], Is.EqualTo("<|eot_id|>"));
            Assert.That(file.GetValue<string>("tokenizer.ggml.model"), Is.EqualTo("gpt2"));
            Assert.That(file.GetValue<string>("tokenizer.ggml.pre"), Is.EqualTo("llama-bpe"));
            Assert.That(file["tokenizer.ggml.merges"].ArrayElementType, Is.EqualTo(GgufValueType.String));
            Assert.That(file.Tensors, Is.Empty);
        });
    }

    [Test]
    public void BertVocabIsWordPiece()
    {
        GgufFile file = GgufFile.Read(TestEnvironment.VocabularyPath("bert-bge"));

        Assert.Multiple(() =>
        {
            Assert.That(file.Architecture, Is.EqualTo("bert"));
            Assert.That(file.GetValue<string>("tokenizer.ggml.model"), Is.EqualTo("bert"));
            Assert.That(file.GetValue<string[]>("tokenizer.ggml.tokens"), Has.Length.EqualTo(30522));
        });
    }

    [Test]
    public void MissingKeyNamesKeyAndFile()
    {
        string path = TestEnvironment.VocabularyPath("bert-bge");
        GgufFile file = GgufFile.Read(path);

        Assert.Multiple(() =>
        {
            Assert.That(() => file["no.such.key"], Throws.TypeOf<KeyNotFoundException>()
                .With.Message.Contains("'no.such.key'").And.Message.Contains(path));
            Assert.That(() => file.GetValue<int>("general.architecture"), Throws.TypeOf<InvalidCastException>()
                .With.Message.Contains("'general.architecture'").And.Message.Contains("String"));
            Assert.That(file.ContainsKey("no.such.key"), Is.False);
        });
    }
}
