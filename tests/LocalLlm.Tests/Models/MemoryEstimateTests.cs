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
    public void TheTokenTables_AreCountedOnTheHost_AndGrowWithTheVocabulary()
    {
        string llama3 = GeneratedModels.Ensure(ModelShape.Tiny); // 128,256 tokens and 280,147 merges
        string bert = GeneratedModels.Ensure(ModelShape.Embedding); // 30,522 tokens, no merges
        LlamaDeviceMemoryEstimate large = LlamaModel.EstimateMemory(llama3).Devices[^1];
        LlamaDeviceMemoryEstimate small = LlamaModel.EstimateMemory(bert).Devices[^1];
        LocalLlm.Gguf.GgufFile header = LocalLlm.Gguf.GgufFile.Read(llama3);
        int tokens = header.GetValue<string[]>("tokenizer.ggml.tokens").Length;
        int merges = header.GetValue<string[]>("tokenizer.ggml.merges").Length;

        Assert.Multiple(() =>
        {
            // At least the containers' fixed parts: per token an entry, a map node with its bucket, a cached piece and
            // the reader's string; per merge a node with its bucket and the reader's string.
            Assert.That(large.TokenizerBytes, Is.GreaterThanOrEqualTo((tokens * (40L + 72 + 32 + 32)) + (merges * (104L + 32))));
            Assert.That(large.TokenizerBytes, Is.GreaterThan(small.TokenizerBytes * 4), "four times the tokens and the merges besides");
            Assert.That(large.TotalBytes, Is.EqualTo(large.ModelBytes + large.ContextBytes + large.ComputeBytes + large.TokenizerBytes));
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

    [Test]
    public void PlanFit_OnAMachineWithRoom_KeepsEveryLayerAndTheTrainedContext()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);

        LlamaFitPlan plan = LlamaModel.PlanFit(path);

        Assert.Multiple(() =>
        {
            Assert.That(plan.Fits, Is.True, plan.Explanation);
            Assert.That(plan.GpuLayerCount, Is.EqualTo(-1), "no GPU here: llama.cpp's fit leaves the offload as it was");
            Assert.That(plan.ContextSize, Is.EqualTo(plan.Estimate.TrainedContextLength), "the largest context the model was trained for, since it fits");
            Assert.That(plan.Explanation, Is.Empty);
        });
    }

    [Test]
    public void PlanFit_ShrinksAChosenContext_ToWhatTheHostHolds_AndKeepsTheMargin()
    {
        // 256 sequences make the tiny model's KV cache large enough (64 KiB a position) to shrink measurably.
        const int Sequences = 256;
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        LlamaMemoryEstimate full = LlamaModel.EstimateMemory(path, contextOptions: new LlamaContextOptions { ContextSize = 2048 }, sequences: Sequences);
        LlamaDeviceMemoryEstimate host = full.Devices[^1];
        long perPosition = host.ContextBytes / 2048;

        // A margin that leaves room for the weights, the compute buffers and about 1,100 positions of KV cache, which
        // stays a shrink to between 256 and 1,792 while the free memory drifts by up to about 50 MiB before the plan
        // reads it again.
        long margin = host.FreeBytes - host.ModelBytes - host.ComputeBytes - host.TokenizerBytes - (perPosition * 1100);
        LlamaFitPlan plan = LlamaModel.PlanFit(path, new LlamaFitOptions { MarginBytes = margin, MinimumContextSize = 256, Sequences = Sequences });
        LlamaDeviceMemoryEstimate planned = plan.Estimate.Devices[^1];
        long room = planned.FreeBytes - margin - planned.ModelBytes - planned.ComputeBytes - planned.TokenizerBytes;

        Assert.Multiple(() =>
        {
            Assert.That(plan.Fits, Is.True, plan.Explanation);
            Assert.That(plan.ContextSize, Is.InRange(256, 1792), "shrunk from the trained 2,048");
            Assert.That(plan.ContextSize % 256, Is.Zero);
            Assert.That(planned.ContextBytes, Is.EqualTo(perPosition * plan.ContextSize), "the estimate is of the chosen size");
            Assert.That(planned.TotalBytes + margin, Is.LessThanOrEqualTo(planned.FreeBytes), "the margin stays free");
            Assert.That(perPosition * (plan.ContextSize + 256), Is.GreaterThan(room), "the next multiple of 256 would not have fitted");
        });
    }

    [Test]
    public void PlanFit_WhenNothingFits_SaysWhatIsNeededAndWhatIsFree()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        long free = LlamaModel.EstimateMemory(path).Devices[^1].FreeBytes;

        LlamaFitPlan plan = LlamaModel.PlanFit(path, new LlamaFitOptions { MarginBytes = free + (1L << 30) });

        Assert.Multiple(() =>
        {
            Assert.That(plan.Fits, Is.False);
            Assert.That(plan.Explanation, Does.Contain("'host' would need").And.Contain("MiB free").And.Contain("are to stay free"));
        });
    }
}
