using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Models;

/// <summary>The memory estimate llama.cpp makes from a GGUF's header, through the shim, before anything is loaded.</summary>
public sealed class MemoryEstimateTests
{
    [Test]
    public void TheEstimate_SizesWeightsKvCacheAndCompute_AndTheKvCacheGrowsWithTheContext()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        using LlamaModel loaded = LlamaModel.LoadAsync(path).GetAwaiter().GetResult();
        LlamaModelMetadata metadata = loaded.Metadata;

        LlamaMemoryEstimate small = LlamaModel.EstimateMemory(path, contextOptions: new LlamaContextOptions { ContextSize = 1024 });
        LlamaMemoryEstimate large = LlamaModel.EstimateMemory(path, contextOptions: new LlamaContextOptions { ContextSize = 4096 });
        LlamaMemoryEstimate fourSequences = LlamaModel.EstimateMemory(path, contextOptions: new LlamaContextOptions { ContextSize = 1024 }, sequences: 4);
        LlamaDeviceMemoryEstimate host = small.Devices[^1];

        // An f16 KV cache holds, per token and layer, keys and values of (KV heads x head size) halves.
        long kvPerToken = 2L * metadata.LayerCount * (metadata.EmbeddingSize / metadata.HeadCount) * metadata.KeyValueHeadCount * 2;
        Assert.Multiple(() =>
        {
            Assert.That(host.Device, Is.EqualTo("host"));
            Assert.That(small.LayerCount, Is.EqualTo(metadata.LayerCount));
            Assert.That(small.TrainedContextLength, Is.EqualTo(metadata.TrainedContextLength));
            Assert.That((double)host.ModelBytes, Is.EqualTo((double)metadata.SizeInBytes).Within(5).Percent, "the weights are the tensors' bytes");
            Assert.That(host.ContextBytes, Is.EqualTo(kvPerToken * 1024), "the KV cache of 1,024 tokens");
            Assert.That(large.Devices[^1].ContextBytes, Is.EqualTo(kvPerToken * 4096), "four times the tokens, four times the cache");
            Assert.That(fourSequences.Devices[^1].ContextBytes, Is.EqualTo(kvPerToken * 4096), "four sequences of 1,024 tokens each");
            Assert.That(host.ComputeBytes, Is.GreaterThan(0));
            Assert.That(host.FreeBytes, Is.GreaterThan(0).And.LessThanOrEqualTo(host.TotalMemoryBytes));
        });
    }

    [Test]
    public void ANonModelFile_IsRefusedBeforeLlamaCppReadsIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"not-a-model-{Guid.NewGuid():N}.gguf");
        File.WriteAllText(path, "nonsense");
        try
        {
            Assert.Catch(() => LlamaModel.EstimateMemory(path));
            Assert.Throws<FileNotFoundException>(() => LlamaModel.EstimateMemory(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
