using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.TestModels;

/// <summary>The generated test models are cached by recipe and have the layout llama.cpp expects.</summary>
public sealed class GeneratedModelsTests
{
    [Test]
    public void EnsuringTinyTwiceReturnsTheSameFileWithoutRewritingIt()
    {
        string first = GeneratedModels.Ensure(ModelShape.Tiny);
        DateTime written = File.GetLastWriteTimeUtc(first);

        string second = GeneratedModels.Ensure(ModelShape.Tiny);

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.EqualTo(first));
            Assert.That(File.GetLastWriteTimeUtc(second), Is.EqualTo(written));
            Assert.That(Path.GetFileName(first), Does.Match("^tiny-[0-9a-f]{12}\\.gguf$"));
            Assert.That(Path.GetDirectoryName(first), Is.EqualTo(GeneratedModels.DefaultOutputDirectory));
        });
    }

    [Test]
    public void TinyIsALlama3ModelWithTheRealTokenizerAndChatTemplate()
    {
        ModelSpec spec = ModelSpec.For(ModelShape.Tiny);

        GgufFile file = GgufFile.Read(GeneratedModels.Ensure(ModelShape.Tiny));

        string[] tokens = file.GetValue<string[]>("tokenizer.ggml.tokens");
        Assert.Multiple(() =>
        {
            Assert.That(file.Architecture, Is.EqualTo("llama"));
            Assert.That(file.GetValue<uint>("llama.block_count"), Is.EqualTo(2u));
            Assert.That(file.GetValue<uint>("llama.embedding_length"), Is.EqualTo(64u));
            Assert.That(file.GetValue<uint>("llama.attention.head_count"), Is.EqualTo(4u));
            Assert.That(file.GetValue<uint>("llama.attention.head_count_kv"), Is.EqualTo(2u));
            Assert.That(file.GetValue<uint>("llama.rope.dimension_count"), Is.EqualTo(16u));
            Assert.That(file.GetValue<uint>("llama.vocab_size"), Is.EqualTo(128256u));
            Assert.That(tokens, Has.Length.EqualTo(128256));
            Assert.That(file.GetValue<string[]>("tokenizer.ggml.merges"), Is.Not.Empty);
            Assert.That(file.GetValue<uint>("tokenizer.ggml.bos_token_id"), Is.EqualTo(128000u));
            Assert.That(tokens[file.GetValue<uint>("tokenizer.ggml.eos_token_id")], Is.EqualTo("<|eot_id|>"));
            Assert.That(file.GetValue<string>("tokenizer.chat_template"), Does.Contain("<|start_header_id|>").And.Contain("<|eot_id|>"));
            Assert.That(file.Tensors, Has.Count.EqualTo(2 + (9 * spec.BlockCount)), "token_embd, output_norm and 9 per layer; output tied");
            Assert.That(file.FileLength, Is.LessThan(32L << 20));
        });
    }

    [Test]
    public void TinyTensorsHaveLlamaCppNamesAndShapes()
    {
        GgufFile file = GgufFile.Read(GeneratedModels.Ensure(ModelShape.Tiny));

        Assert.Multiple(() =>
        {
            AssertTensor(file, "token_embd.weight", GgmlType.Q8_0, 64, 128256);
            AssertTensor(file, "output_norm.weight", GgmlType.F32, 64);
            AssertTensor(file, "blk.1.attn_norm.weight", GgmlType.F32, 64);
            AssertTensor(file, "blk.1.attn_q.weight", GgmlType.F16, 64, 64);
            AssertTensor(file, "blk.1.attn_k.weight", GgmlType.F16, 64, 32);
            AssertTensor(file, "blk.1.attn_v.weight", GgmlType.F16, 64, 32);
            AssertTensor(file, "blk.1.attn_output.weight", GgmlType.F16, 64, 64);
            AssertTensor(file, "blk.1.ffn_norm.weight", GgmlType.F32, 64);
            AssertTensor(file, "blk.1.ffn_gate.weight", GgmlType.F16, 64, 128);
            AssertTensor(file, "blk.1.ffn_up.weight", GgmlType.F16, 64, 128);
            AssertTensor(file, "blk.1.ffn_down.weight", GgmlType.F16, 128, 64);
        });
    }

    [Test]
    public void EmbeddingIsABertModelWithMeanPooling()
    {
        GgufFile file = GgufFile.Read(GeneratedModels.Ensure(ModelShape.Embedding));

        Assert.Multiple(() =>
        {
            Assert.That(file.Architecture, Is.EqualTo("bert"));
            Assert.That(file.GetValue<uint>("bert.pooling_type"), Is.EqualTo(1u));
            Assert.That(file.GetValue<bool>("bert.attention.causal"), Is.False);
            Assert.That(file.GetValue<string>("tokenizer.ggml.model"), Is.EqualTo("bert"));
            Assert.That(file.GetValue<string[]>("tokenizer.ggml.tokens"), Has.Length.EqualTo(30522));
            AssertTensor(file, "token_embd.weight", GgmlType.F16, 128, 30522);
            AssertTensor(file, "token_types.weight", GgmlType.F32, 128, 2);
            AssertTensor(file, "position_embd.weight", GgmlType.F32, 128, 512);
            AssertTensor(file, "token_embd_norm.bias", GgmlType.F32, 128);
            AssertTensor(file, "blk.1.attn_output_norm.weight", GgmlType.F32, 128);
            AssertTensor(file, "blk.1.ffn_up.bias", GgmlType.F32, 512);
            AssertTensor(file, "blk.1.layer_output_norm.bias", GgmlType.F32, 128);
        });
    }

    [Test]
    public void ChangingTheRecipeChangesTheFileAndTheContentIsDeterministic()
    {
        string directory = Path.Combine(Path.GetTempPath(), "localllm-generated-tests", Guid.NewGuid().ToString("N"));
        try
        {
            ModelSpec tiny = ModelSpec.For(ModelShape.Tiny);
            string original = GeneratedModels.Ensure(tiny, directory);
            byte[] originalBytes = File.ReadAllBytes(original);
            File.Delete(original);

            string regenerated = GeneratedModels.Ensure(tiny, directory);
            byte[] regeneratedBytes = File.ReadAllBytes(regenerated);
            string reseeded = GeneratedModels.Ensure(tiny with { Seed = 42 }, directory);

            Assert.Multiple(() =>
            {
                Assert.That(regenerated, Is.EqualTo(original));
                Assert.That(regeneratedBytes, Is.EqualTo(originalBytes), "same recipe, same bytes");
                Assert.That(reseeded, Is.Not.EqualTo(original));
                Assert.That(File.Exists(original), Is.False, "the older recipe's file of the same shape is removed");
                Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(1), "no temporary files remain");
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void QuantizerIsPluggedInAndCachedByName()
    {
        string directory = Path.Combine(Path.GetTempPath(), "localllm-generated-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var quantizer = new CopyingQuantizer();

            string first = GeneratedModels.Ensure(ModelShape.Tiny, quantizer, directory);
            string second = GeneratedModels.Ensure(ModelShape.Tiny, quantizer, directory);

            Assert.Multiple(() =>
            {
                Assert.That(quantizer.Calls, Is.EqualTo(1));
                Assert.That(second, Is.EqualTo(first));
                Assert.That(Path.GetFileName(first), Does.Match("^tiny-copy_q8-[0-9a-f]{12}\\.gguf$"));
                Assert.That(GgufFile.Read(first).Architecture, Is.EqualTo("llama"));
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void QuantizerNameMustBeFileNameSafe()
    {
        Assert.That(() => GeneratedModels.Ensure(ModelShape.Tiny, new CopyingQuantizer("../x")),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("quantizer").And.Message.Contains("'../x'"));
    }

    private static void AssertTensor(GgufFile file, string name, GgmlType type, params long[] dimensions)
    {
        Assert.That(file.TryGetTensor(name, out GgufTensorInfo? tensor), Is.True, $"missing tensor {name}");
        Assert.That(tensor!.Type, Is.EqualTo(type), name);
        Assert.That(tensor.Dimensions, Is.EqualTo(dimensions), name);
    }

    private sealed class CopyingQuantizer(string name = "copy_q8") : IModelQuantizer
    {
        public int Calls { get; private set; }

        public string Name => name;

        public void Quantize(string sourcePath, string destinationPath)
        {
            Calls++;
            File.Copy(sourcePath, destinationPath);
        }
    }
}
