using System.Runtime.InteropServices;
using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Models;

/// <summary>
/// Well-formed GGUF files whose values llama.cpp asserts on (ending the process) are refused before llama.cpp sees
/// them, each with its own failure naming the key. Each file is a working model or vocabulary with one value changed,
/// loaded and run (a model) or tokenized (a vocabulary) in a child process, where a regressed check ends the child.
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

        RefusedVocabulary(path, LlamaModelLoadFailure.DuplicateToken, "ids 999 and 1000");
    }

    [Test]
    public async Task TwoEmptyTokens_AreNotDuplicates_AsLlamaCppRenamesEachOne()
    {
        string path = Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => EditTokens(w, tokens => tokens[1000] = tokens[1001] = string.Empty));

        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true });

        Assert.That(model.Tokenizer.GetTokenText(1001), Is.EqualTo("[EMPTY_1001]"));
    }

    [Test]
    public void AnEmptyTokenBesideTheNameLlamaCppWouldGiveIt_IsADuplicate()
    {
        string path = Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => EditTokens(w, tokens => (tokens[1000], tokens[1001]) = (string.Empty, "[EMPTY_1000]")));

        RefusedVocabulary(path, LlamaModelLoadFailure.DuplicateToken, "[EMPTY_1000]");
    }

    [TestCase("<0x0A>")]
    [TestCase("<0xFF>")]
    public void ASentencePieceVocabularyWithoutAByteToken_IsRefused(string byteToken)
    {
        string path = Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => EditTokens(w, tokens => tokens[Array.IndexOf(tokens, byteToken)] = byteToken + "x"));

        RefusedVocabulary(path, LlamaModelLoadFailure.MissingByteTokens, byteToken);
    }

    [Test]
    public void ABytePairVocabularyLabelledSentencePiece_IsRefused() =>
        RefusedVocabulary(Rewrite(TestEnvironment.VocabularyPath("gpt-2"), w => w.SetMetadata("tokenizer.ggml.model", "llama")), LlamaModelLoadFailure.MissingByteTokens, "<0x00>");

    [Test]
    public void ASentencePieceVocabularyLabelledWordPiece_IsRefused() =>
        RefusedVocabulary(Rewrite(TestEnvironment.VocabularyPath("llama-spm"), w => w.SetMetadata("tokenizer.ggml.model", "bert")), LlamaModelLoadFailure.TokenizerMismatch, "byte token");

    [TestCase("none")]
    [TestCase("no_vocab")]
    public void AModelWithoutAVocabulary_LoadsButRefusesToTokenizeOrGenerate(string tokenizerModel)
    {
        string path = Rewrite(Tiny, w => w.SetMetadata("tokenizer.ggml.model", tokenizerModel));

        string tokenize = ChildProbe.AssertRefused<NotSupportedException>("--run-vocabulary", path);
        string generate = ChildProbe.AssertRefused<NotSupportedException>("--run", path);

        Assert.That(tokenize, Does.Contain("no vocabulary").And.Contain("tokenize"));
        Assert.That(generate, Does.Contain("no vocabulary").And.Contain("session"));
    }

    [TestCase("llama.context_length", "is 0")]
    [TestCase("tokenizer.ggml.bos_token_id", "outside the vocabulary")]
    [TestCase("tokenizer.ggml.scores", "not finite numbers (the first for token 3)")]
    public async Task NonsenseThatLlamaCppAccepts_LoadsWithAWarningNamingTheKey(string key, string problem)
    {
        string path = Rewrite(Tiny, w =>
        {
            switch (key)
            {
                case "llama.context_length":
                    w.SetMetadata(key, 0u);
                    break;
                case "tokenizer.ggml.bos_token_id":
                    w.SetMetadata(key, 1_000_000u);
                    break;
                default:
                    // The tiny model's BPE vocabulary has no scores; llama.cpp reads them for any vocabulary.
                    float[] scores = new float[w.Metadata.First(e => e.Key == "tokenizer.ggml.tokens").GetValue<string[]>().Length];
                    scores[3] = scores[7] = float.NaN;
                    w.SetMetadata(key, scores);
                    break;
            }
        });
        using var logs = new RecordingLoggerProvider();
        using var loggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([logs]);

        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { LoggerFactory = loggerFactory });
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 });
        LlamaCompletion completion = await session.CompleteAsync("Hello", new LlamaGenerationOptions { MaxTokens = 2, Sampling = LlamaSamplingOptions.Greedy });

        RecordingLoggerProvider.LogRecord warning = logs.Records.Single(r => r.Category == "LocalLlm.LlamaModel");
        Assert.That(warning.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Warning));
        Assert.That(warning.Message, Does.Contain(key).And.Contain(problem).And.Contain(path));
        Assert.That(completion.TokenIds, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task AnUnchangedModel_LoadsWithoutWarnings()
    {
        using var logs = new RecordingLoggerProvider();
        using var loggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([logs]);

        using LlamaModel model = await LlamaModel.LoadAsync(Tiny, new LlamaModelOptions { LoggerFactory = loggerFactory });

        Assert.That(logs.Records.Where(r => r.Category == "LocalLlm.LlamaModel"), Is.Empty);
    }

    [Test]
    public async Task TheUnchangedFiles_StillLoad()
    {
        using LlamaModel tiny = await LlamaModel.LoadAsync(Rewrite(Tiny, _ => { }));
        using LlamaModel vocabulary = await LlamaModel.LoadAsync(Rewrite(TestEnvironment.VocabularyPath("llama-spm"), _ => { }), new LlamaModelOptions { VocabularyOnly = true });

        Assert.That(tiny.Metadata.LayerCount, Is.EqualTo(2));
        Assert.That(vocabulary.Tokenizer.VocabularyType, Is.EqualTo(LlamaVocabularyType.SentencePiece));
    }

    private static void Refused(string path, LlamaModelLoadFailure failure, string named) =>
        Assert.That(ChildProbe.AssertRefused<LlamaModelLoadException>("--run", path), Does.StartWith($"LlamaModelLoadException[{failure}]").And.Contain(named).And.Contain(path));

    private static void RefusedVocabulary(string path, LlamaModelLoadFailure failure, string named) =>
        Assert.That(ChildProbe.AssertRefused<LlamaModelLoadException>("--run-vocabulary", path), Does.StartWith($"LlamaModelLoadException[{failure}]").And.Contain(named).And.Contain(path));

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
