using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Inference;

/// <summary>A model that cannot generate text is refused by every owner of the generation loop before llama.cpp sees it.</summary>
public sealed class GeneratingModelCheckTests
{
    [Test]
    public async Task AnEmbeddingModel_IsRefusedBySessionAndScheduler_NamingWhy()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Embedding));

        var session = Assert.Throws<NotSupportedException>(() => new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 }));
        var scheduler = Assert.Throws<NotSupportedException>(() => new LlamaScheduler(model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 256, ThreadCount = 2 }));

        Assert.That(session!.Message, Does.Contain("embedding model").And.Contain("session"));
        Assert.That(scheduler!.Message, Does.Contain("embedding model").And.Contain("scheduler"));
    }

    [Test]
    public void AVocabularyOnlyModel_IsRefused_InsteadOfAbortingInLlamaCpp()
    {
        // In child processes: before the check, llama.cpp aborted the process creating the context.
        string session = ChildProbe.AssertRefused<NotSupportedException>("--run-vocabulary", GeneratedModels.Ensure(ModelShape.Tiny));
        string scheduler = ChildProbe.AssertRefused<NotSupportedException>("--run-vocabulary", GeneratedModels.Ensure(ModelShape.Tiny), "--scheduler");

        Assert.That(session, Does.Contain("VocabularyOnly").And.Contain("session"));
        Assert.That(scheduler, Does.Contain("VocabularyOnly").And.Contain("scheduler"));
    }
}
