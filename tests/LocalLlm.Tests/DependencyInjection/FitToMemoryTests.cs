using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LocalLlm.Tests.DependencyInjection;

/// <summary><c>AddLocalLlm</c> with <c>FitToMemory</c>: the context is chosen from the free memory, or the load fails first.</summary>
public sealed class FitToMemoryTests
{
    private static string TinyPath => GeneratedModels.Ensure(ModelShape.Tiny);

    [Test]
    public async Task TheChatClientsContext_IsTheOneTheFitChose()
    {
        // As in PlanFit's test: 256 sequences make the KV cache large enough to shrink measurably.
        const int Sequences = 256;
        LlamaDeviceMemoryEstimate host = LlamaModel.EstimateMemory(TinyPath, contextOptions: new LlamaContextOptions { ContextSize = 2048 }, sequences: Sequences).Devices[^1];
        // Room for about 1,100 positions: a shrink to between 256 and 1,792 while the free memory drifts by up to about
        // 50 MiB before the host plans.
        long margin = host.FreeBytes - host.ModelBytes - host.ComputeBytes - host.TokenizerBytes - (host.ContextBytes / 2048 * 1100);
        var services = new ServiceCollection();
        services.AddLocalLlm(o =>
        {
            o.ModelPath = TinyPath;
            o.ThreadCount = 2;
            o.ParallelSequences = Sequences;
            o.FitToMemory = true;
            o.FitMarginBytes = margin;
            o.FitMinimumContextSize = 256;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        var chat = (LlamaChatClient)provider.GetRequiredService<IChatClient>();
        await chat.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2 });

        Assert.That(chat.ContextShape!.Value.SequenceContextSize, Is.InRange(256, 1792), "the trained 2,048 shrunk to what the margin leaves");
        Assert.That(chat.ContextShape.Value.SequenceContextSize % 256, Is.Zero);
        Assert.That(provider.GetRequiredService<LlamaModel>().FittedContextSize, Is.EqualTo(chat.ContextShape.Value.SequenceContextSize));
    }

    [Test]
    public void AModelThatCannotFit_FailsBeforeLoading_NamingTheNeedAndWhatIsFree()
    {
        var services = new ServiceCollection();
        services.AddLocalLlm(o =>
        {
            o.ModelPath = TinyPath;
            o.FitToMemory = true;
            o.FitMarginBytes = long.MaxValue / 2;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        LlamaModelLoadException? error = Assert.Throws<LlamaModelLoadException>(() => provider.GetRequiredService<LlamaModel>());

        Assert.That(error!.Failure, Is.EqualTo(LlamaModelLoadFailure.InsufficientMemory));
        Assert.That(error.Message, Does.Contain("does not fit").And.Contain("would need").And.Contain("MiB free"));
    }
}
