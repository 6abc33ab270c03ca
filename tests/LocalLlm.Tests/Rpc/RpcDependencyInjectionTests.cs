using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LocalLlm.Tests.Rpc;

/// <summary><c>AddLocalLlm</c> with RPC workers, from configuration as a host would read them.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RpcDependencyInjectionTests
{
    private static string TinyPath => GeneratedModels.Ensure(ModelShape.Tiny);

    [Test]
    public async Task WorkersFromConfiguration_TakeTheLastLayers_AndTheChatClientAnswers()
    {
        using RpcWorkerProcess worker = await RpcWorkerProcess.StartRpcServerAsync();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LocalLlm:ModelPath"] = TinyPath,
            ["LocalLlm:GpuLayerCount"] = "2",
            ["LocalLlm:RpcServers:0"] = worker.Endpoint,
            ["LocalLlm:ThreadCount"] = "1",
        }).Build();
        var services = new ServiceCollection();
        services.AddLocalLlm(o => configuration.GetSection(LocalLlmOptions.SectionName).Bind(o));
        await using ServiceProvider provider = services.BuildServiceProvider();

        ChatResponse reply = await provider.GetRequiredService<IChatClient>().GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 4, Temperature = 0 });
        IReadOnlyList<string> layers = provider.GetRequiredService<LlamaModel>().LayerDevices;

        // Off the engine's thread, which the reply's continuation may run on: disposed from there, the context is freed
        // when that thread exits, which would be after the worker below is stopped, and freeing talks to the worker.
        await Task.Yield();

        Assert.Multiple(() =>
        {
            Assert.That(reply.Usage?.OutputTokenCount, Is.GreaterThan(0));
            Assert.That(layers.TakeLast(2), Is.All.EqualTo($"{worker.Endpoint}#0"), "the last layer and the output on the worker");
            Assert.That(layers.SkipLast(2), Is.All.EqualTo("CPU"));
        });
    }

    [Test]
    public void AMalformedWorker_OrAFitAcrossWorkers_FailsAtStartUp_NamingTheSetting()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddLocalLlm(o =>
        {
            o.ModelPath = TinyPath;
            o.RpcServers = ["worker-without-port"];
        });
        using IHost malformed = builder.Build();
        HostApplicationBuilder fitting = Host.CreateApplicationBuilder();
        fitting.Services.AddLocalLlm(o =>
        {
            o.ModelPath = TinyPath;
            o.RpcServers = ["127.0.0.1:50052"];
            o.FitToMemory = true;
        });
        using IHost fitted = fitting.Build();

        OptionsValidationException? first = Assert.ThrowsAsync<OptionsValidationException>(() => malformed.StartAsync());
        OptionsValidationException? second = Assert.ThrowsAsync<OptionsValidationException>(() => fitted.StartAsync());

        Assert.That(first!.Message, Does.Contain("LocalLlm:RpcServers").And.Contain("worker-without-port"));
        Assert.That(second!.Message, Does.Contain("FitToMemory cannot be used with RpcServers"));
    }
}
