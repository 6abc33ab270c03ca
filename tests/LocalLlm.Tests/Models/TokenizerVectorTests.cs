using System.Globalization;
using System.Text;

namespace LocalLlm.Tests.Models;

/// <summary>
/// Replays llama.cpp's own tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out, as read by its
/// tests/test-tokenizer-0.cpp) through the SDK's tokenizer.
/// </summary>
public sealed class TokenizerVectorTests
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    // Tokenizers that neither normalise (BERT lowercases and strips accents), add a prefix space (SentencePiece
    // with add_space_prefix), nor clean up spaces before punctuation (GPT-2 style clean_up_tokenization_spaces):
    // for these, detokenizing the expected ids must give every input back byte for byte.
    private static readonly HashSet<string> LosslessVocabularies =
        ["command-r", "deepseek-coder", "deepseek-llm", "llama-spm", "phi-3", "qwen2", "qwen35"];

    public static IEnumerable<string> VocabulariesWithVectors() =>
        Directory.EnumerateFiles(Path.Combine(TestEnvironment.LlamaCppSourceDirectory, "models"), "ggml-vocab-*.gguf.inp")
            .Select(inp => Path.GetFileName(inp)["ggml-vocab-".Length..^".gguf.inp".Length])
            .Order(StringComparer.Ordinal);

    [Test]
    public void TheSourceTreeShipsVectorsForTheMainTokenizerFamilies()
    {
        Assert.That(VocabulariesWithVectors(), Is.SupersetOf(new[] { "llama-bpe", "llama-spm", "bert-bge", "qwen2", "gpt-2", "phi-3" }));
    }

    [TestCaseSource(nameof(VocabulariesWithVectors))]
    public async Task Tokenize_ReproducesEveryExpectedIdSequence(string vocabulary)
    {
        string path = TestEnvironment.VocabularyPath(vocabulary);
        List<(string Text, int[] Expected)> cases = ReadVectors(path);
        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true });

        var mismatches = new List<string>();
        int roundTrips = 0;
        foreach ((string text, int[] expected) in cases)
        {
            int[] actual = model.Tokenizer.Tokenize(text, addSpecial: false, parseSpecial: false);
            if (!actual.AsSpan().SequenceEqual(expected))
            {
                mismatches.Add($"'{text}': expected [{string.Join(' ', expected)}] got [{string.Join(' ', actual)}]");
            }

            if (model.Tokenizer.Detokenize(expected) == text)
            {
                roundTrips++;
            }
            else if (LosslessVocabularies.Contains(vocabulary))
            {
                mismatches.Add($"'{text}' detokenized to '{model.Tokenizer.Detokenize(expected)}'");
            }
        }

        TestContext.Out.WriteLine(
            $"{vocabulary} ({model.Tokenizer.VocabularyType}): {cases.Count - mismatches.Count}/{cases.Count} id sequences match; " +
            $"{roundTrips}/{cases.Count} detokenize back to the input");
        Assert.That(mismatches, Is.Empty, $"{vocabulary}: {mismatches.Count} of {cases.Count} vectors differ");
    }

    /// <summary>Parses the vectors exactly as test-tokenizer-0.cpp does (same separator, same last-case rule, duplicates collapse).</summary>
    private static List<(string Text, int[] Expected)> ReadVectors(string vocabularyPath)
    {
        string raw = Encoding.UTF8.GetString(File.ReadAllBytes(vocabularyPath + ".inp"));
        string[] outputs = File.ReadAllText(vocabularyPath + ".out", Encoding.UTF8).Split('\n');
        var inputs = new List<string>();
        for (int position = 0; position < raw.Length;)
        {
            int next = raw.IndexOf(Separator, position, StringComparison.Ordinal);
            if (next < 0)
            {
                inputs.Add(raw[position..]);
                break;
            }

            inputs.Add(raw[position..next]);
            position = next + Separator.Length;
        }

        Assert.That(outputs.Length, Is.GreaterThanOrEqualTo(inputs.Count), $"{vocabularyPath}: fewer expected outputs than inputs");
        var cases = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++)
        {
            cases[inputs[i]] = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(id => int.Parse(id, CultureInfo.InvariantCulture))
                .ToArray();
        }

        return cases.Select(kv => (kv.Key, kv.Value)).ToList();
    }
}
