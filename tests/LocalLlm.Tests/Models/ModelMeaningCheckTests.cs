using System.Runtime.InteropServices;
using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Models;

/// <summary>
/// Well-formed GGUF files whose values llama.cpp asserts on (ending the process) are refused before llama.cpp sees
/// them, each with its own failure naming the key. Each file is a working model or vocabulary with one value changed.
/// </summary>
public sealed class ModelMeaningCheckTests
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = TestEnvironment.CreateTempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    private static string Tiny => GeneratedModels.Ensure(ModelShape.Tiny);

    [TestCase(8u)]
    [TestCase(16u)]
    public void AnAlignmentBelowThirtyTwo_IsRefused(uint alignment) =>
        Refused(Rewrite(Tiny, w => w.SetMetadata("general.alignment", alignment)), LlamaModelLoadFailure.UnsupportedAlignment, "general.alignment");

    [TestCase(0u)]
    [TestCase(1000u)]
    [TestCase(uint.MaxValue)]
    public void ABlockCountOutsideLlamaCppsRange_IsRefused(uint layers) =>
        Refused(Rewrite(Tiny, w => w.SetMetadata("llama.block_count", layers)), LlamaModelLoadFailure.InvalidLayerCount, "llama.block_count");

    [TestCase(-1e-5f)]
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void ANormEpsilonThatIsNegativeOrNotFinite_IsRefused(float epsilon) =>
        Refused(Rewrite(Tiny, w => w.SetMetadata("llama.attention.layer_norm_rms_epsilon", epsilon)), LlamaModelLoadFailure.InvalidNormEpsilon, "layer_norm_rms_epsilon");

    [Test]
    public void ANormWeightStoredAsF16_IsRefused() =>
        Refused(Rewrite(Tiny, _ => { }, retypeToF16: "blk.0.attn_norm.weight"), LlamaModelLoadFailure.UnsupportedNormType, "blk.0.attn_norm.weight");

    [Test]
    public void ATokenListedTwice_IsRefused()
    {
        string path = Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => EditTokens(w, tokens => tokens[1000] = tokens[999]));

        Refused(path, LlamaModelLoadFailure.DuplicateToken, "ids 999 and 1000");
    }

    [TestCase("<0x0A>")]
    [TestCase("<0xFF>")]
    public void ASentencePieceVocabularyWithoutAByteToken_IsRefused(string byteToken)
    {
        string path = Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => EditTokens(w, tokens => tokens[Array.IndexOf(tokens, byteToken)] = byteToken + "x"));

        Refused(path, LlamaModelLoadFailure.MissingByteTokens, byteToken);
    }

    [Test]
    public void ABytePairVocabularyLabelledSentencePiece_IsRefused() =>
        Refused(Rewrite(TestEnvironment.VocabularyPath("gpt-2"), w => w.SetMetadata("tokenizer.ggml.model", "llama")), LlamaModelLoadFailure.MissingByteTokens, "<0x00>");

    [Test]
    public void ASentencePieceVocabularyLabelledWordPiece_IsRefused() =>
        Refused(Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => w.SetMetadata("tokenizer.ggml.model", "bert")), LlamaModelLoadFailure.TokenizerMismatch, "byte token");

    [TestCase("none")]
    [TestCase("no_vocab")]
    public async Task AModelWithoutAVocabulary_LoadsButRefusesToTokenizeOrGenerate(string tokenizerModel)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(Rewrite(Tiny, w => w.SetMetadata("tokenizer.ggml.model", tokenizerModel)));

        var tokenize = Assert.Throws<NotSupportedException>(() => model.Tokenizer.Tokenize("hello"));
        var generate = Assert.Throws<NotSupportedException>(() => new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 }));

        Assert.That(tokenize!.Message, Does.Contain("no vocabulary"));
        Assert.That(generate!.Message, Does.Contain("no vocabulary"));
    }

    [Test]
    public async Task TheUnchangedFiles_StillLoad()
    {
        using LlamaModel tiny = await LlamaModel.LoadAsync(Rewrite(Tiny, _ => { }));
        using LlamaModel vocabulary = await LlamaModel.LoadAsync(Rewrite(TestEnvironment.VocabularyPath("llama-spm"), _ => { }), new LlamaModelOptions { VocabularyOnly = true });

        Assert.That(tiny.Metadata.LayerCount, Is.EqualTo(2));
        Assert.That(vocabulary.Tokenizer.VocabularyType, Is.EqualTo(LlamaVocabularyType.SentencePiece));
    }

    private static void Refused(string path, LlamaModelLoadFailure failure, string named)
    {
        // A vocabulary-only load is enough: the check runs before llama.cpp opens the file either way.
        var ex = Assert.ThrowsAsync<LlamaModelLoadException>(() => LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true }));

        Assert.That(ex!.Failure, Is.EqualTo(failure), ex.Message);
        Assert.That(ex.Message, Does.Contain(named).And.Contain(path));
    }

    private static void EditTokens(GgufWriter writer, Action<string[]> edit)
    {
        string[] tokens = [.. writer.Metadata.First(e => e.Key == "tokenizer.ggml.tokens").GetValue<string[]>()];
        edit(tokens);
        writer.SetMetadata("tokenizer.ggml.tokens", tokens);
    }

    /// <summary>Copies a GGUF file with <paramref name="edit"/> applied to its metadata (and one F32 tensor stored as F16 when named).</summary>
    private string Rewrite(string source, Action<GgufWriter> edit, string? retypeToF16 = null)
    {
        GgufFile file = GgufFile.Read(source);
        var writer = new GgufWriter();
        foreach (GgufMetadataEntry entry in file.Metadata)
        {
            writer.SetMetadata(entry);
        }

        using (FileStream stream = File.OpenRead(source))
        {
            foreach (GgufTensorInfo tensor in file.Tensors)
            {
                byte[] data = new byte[tensor.SizeInBytes];
                stream.Position = file.DataOffset + tensor.Offset;
                stream.ReadExactly(data);
                if (tensor.Name == retypeToF16)
                {
                    writer.AddTensor(tensor.Name, tensor.Dimensions, GgmlType.F16, MemoryMarshal.Cast<byte, float>(data).ToArray().AsMemory());
                }
                else
                {
                    writer.AddTensor(tensor.Name, tensor.Dimensions, tensor.Type, data);
                }
            }
        }

        edit(writer);
        string path = Path.Combine(_directory, $"edited-{Guid.NewGuid():N}.gguf");
        writer.WriteTo(path);
        return path;
    }
}
