using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Rpc;

/// <summary>
/// The 1b-shape model split across this process's CPU and two RPC workers on loopback (the packaged rpc-server and
/// the RpcWorker sample): the same greedy tokens as a local run, streaming, cancellation and the scheduler included.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RpcSplitTests
{
    private static readonly string[] Prompts = ["The llama walks across the high plateau", "Once upon a time, in a small village,"];

    private RpcWorkerProcess? _server;
    private RpcWorkerProcess? _sample;
    private LlamaModel? _split;
    private readonly List<IReadOnlyList<int>> _local = [];

    private LlamaModel Split => _split ?? throw new InvalidOperationException("The split model did not load.");

    [OneTimeSetUp]
    public async Task LoadLocallyThenAcrossTheWorkers()
    {
        string path = GeneratedModels.Ensure(ModelShape.OneB, new LlamaCppQuantizer(LlamaQuantizationType.Q4_0));
        // The workers compute with the CPU's plain kernels; weights repacked for the fastest ones add up in another order
        // and, on random weights whose top logits nearly tie, change a greedy pick. Both runs use the plain kernels.
        using (LlamaModel local = await LlamaModel.LoadAsync(path, new LlamaModelOptions { RepackWeights = false }))
        using (var session = new LlamaSession(local, Context()))
        {
            foreach (string prompt in Prompts)
            {
                session.Reset();
                _local.Add((await session.CompleteAsync(prompt, Greedy(16))).TokenIds);
            }
        }

        _server = await RpcWorkerProcess.StartRpcServerAsync();
        _sample = await RpcWorkerProcess.StartSampleAsync();

        // 16 layers and the output: the first 6 stay here, the last 11 go to the workers, shared equally.
        _split = await LlamaModel.LoadAsync(path, new LlamaModelOptions { RpcServers = [_server.Endpoint, _sample.Endpoint], GpuLayerCount = 11, TensorSplit = [1, 1], RepackWeights = false });
    }

    [OneTimeTearDown]
    public void StopWorkers()
    {
        _split?.Dispose();
        _server?.Dispose();
        _sample?.Dispose();
    }

    [Test]
    public void TheLayers_AreOnTheCpuAndBothWorkers()
    {
        IReadOnlyList<string> layers = Split.LayerDevices;
        TestContext.Out.WriteLine(string.Join(", ", layers.Select((d, i) => $"{i}:{d}")));

        Assert.Multiple(() =>
        {
            Assert.That(layers, Has.Count.EqualTo(17), "16 layers and the output");
            Assert.That(layers.Take(6), Is.All.EqualTo("CPU"));
            Assert.That(layers.Skip(6).Distinct(), Is.EqualTo(new[] { $"{_server!.Endpoint}#0", $"{_sample!.Endpoint}#0" }), "the rest split between the workers, in order");
        });
    }

    [Test]
    public async Task GreedyTokens_AreTheLocalRunsExactly()
    {
        using var session = new LlamaSession(Split, Context());
        for (int i = 0; i < Prompts.Length; i++)
        {
            session.Reset();
            LlamaCompletion split = await session.CompleteAsync(Prompts[i], Greedy(16));
            TestContext.Out.WriteLine($"'{Prompts[i]}': local [{string.Join(',', _local[i])}], split [{string.Join(',', split.TokenIds)}]");
            Assert.That(split.TokenIds, Is.EqualTo(_local[i]), $"prompt {i}");
        }
    }

    [Test]
    public async Task Streaming_CanBeCancelled_AndTheSessionGoesOnGreedyAsLocal()
    {
        using var session = new LlamaSession(Split, Context());
        using var cancel = new CancellationTokenSource();
        var streamed = new List<int>();

        Assert.That(async () =>
        {
            await foreach (LlamaGenerationUpdate update in session.StreamAsync(Prompts[0], Greedy(16), cancel.Token))
            {
                if (update.TokenId is { } token)
                {
                    streamed.Add(token);
                }

                if (streamed.Count >= 3)
                {
                    await cancel.CancelAsync();
                }
            }
        }, Throws.InstanceOf<OperationCanceledException>());

        Assert.That(streamed, Is.EqualTo(_local[0].Take(streamed.Count)), "the streamed tokens before the cancel");
        session.Reset();
        LlamaCompletion after = await session.CompleteAsync(Prompts[1], Greedy(16));
        Assert.That(after.TokenIds, Is.EqualTo(_local[1]));
    }

    [Test]
    public async Task TheScheduler_RunsBothPromptsAtOnce_AcrossTheSplit()
    {
        using var scheduler = new LlamaScheduler(Split, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 256, ThreadCount = 1 });

        LlamaCompletion[] together = await Task.WhenAll(Prompts.Select(p => scheduler.CompleteAsync(p, Greedy(16))));

        Assert.That(together.Select(c => c.TokenIds), Is.EqualTo(_local));
    }

    private static LlamaContextOptions Context() => new() { ContextSize = 256, ThreadCount = 1 };

    private static LlamaGenerationOptions Greedy(int tokens) => new() { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy };
}
