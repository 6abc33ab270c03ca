using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LocalLlm.Tests.DependencyInjection;

/// <summary>A real Generic Host resolves and uses the registered chat client and model.</summary>
public sealed class AddLocalLlmTests
{
    private static string TinyPath => GeneratedModels.Ensure(ModelShape.Tiny);

    [Test]
    public async Task AHostApp_ResolvesIChatClient_AndStreamsAReply()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddLocalLlm(o =>
        {
            o.ModelPath = TinyPath;
            o.ContextSize = 512;
            o.ThreadCount = 2;
        });
        using IHost host = builder.Build();
        await host.StartAsync();

        IChatClient chat = host.Services.GetRequiredService<IChatClient>();
        var text = new System.Text.StringBuilder();
        ChatResponseUpdate? last = null;
        await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync("Hello!", new ChatOptions { MaxOutputTokens = 6 }))
        {
            text.Append(update.Text);
            last = update;
        }

        Assert.That(text.ToString(), Is.Not.Empty);
        Assert.That(last!.Contents.OfType<UsageContent>().Single().Details.OutputTokenCount, Is.EqualTo(6));
        Assert.That(chat.GetService<LlamaModel>(), Is.SameAs(host.Services.GetRequiredService<LlamaModel>()));
        await host.StopAsync();
    }

    [Test]
    public async Task WithParallelSequences_AStreamBlockingTheScheduler_IsReportedInTheAppsLog()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.AddProvider(logs);
        builder.Services.AddLocalLlm(o =>
        {
            o.ModelPath = TinyPath;
            o.ContextSize = 256;
            o.ThreadCount = 2;
            o.ParallelSequences = 2;
        });
        using IHost host = builder.Build();
        await host.StartAsync();

        IChatClient chat = host.Services.GetRequiredService<IChatClient>();
        bool blocked = false;
        await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync("Hello!", new ChatOptions { MaxOutputTokens = 16 }))
        {
            if (!blocked && Thread.CurrentThread.Name?.StartsWith("LocalLlm scheduler", StringComparison.Ordinal) == true)
            {
                blocked = true;
                Thread.Sleep(300); // blocks the scheduler's thread, on which this loop body runs
            }
        }

        Assert.That(blocked, Is.True, "a loop body ran on the scheduler's thread");
        Assert.That(
            logs.Records.Where(r => r.Level == LogLevel.Warning && r.Category == typeof(LlamaScheduler).FullName).Select(r => r.Message),
            Has.Some.Contains("held the scheduler's thread"));
    }

    [Test]
    public async Task OptionsBoundFromConfiguration_AreUsed()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LocalLlm:ModelPath"] = TinyPath,
            ["LocalLlm:ContextSize"] = "300",
            ["LocalLlm:ThreadCount"] = "2",
            ["LocalLlm:DefaultMaxOutputTokens"] = "3",
        });
        builder.Services.AddLocalLlm(builder.Configuration.GetSection(LocalLlmOptions.SectionName));
        using IHost host = builder.Build();
        await host.StartAsync();

        ChatResponse response = await host.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hi");

        Assert.That(response.Usage!.OutputTokenCount, Is.EqualTo(3), "DefaultMaxOutputTokens came from configuration");
        Assert.That(host.Services.GetRequiredService<IOptions<LocalLlmOptions>>().Value.ContextSize, Is.EqualTo(300));
    }

    [Test]
    public async Task KeyedRegistrations_ServeSeveralModels()
    {
        string chatml = GeneratedModels.Ensure(ModelSpec.For(ModelShape.Tiny) with { ChatTemplateFile = "Qwen-Qwen2.5-7B-Instruct.jinja", Variant = "qwentmpl" });
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddKeyedLocalLlm("llama", o => { o.ModelPath = TinyPath; o.ContextSize = 256; o.ThreadCount = 2; });
        builder.Services.AddKeyedLocalLlm("qwen", o => { o.ModelPath = chatml; o.ContextSize = 256; o.ThreadCount = 2; });
        using IHost host = builder.Build();
        await host.StartAsync();

        IChatClient llama = host.Services.GetRequiredKeyedService<IChatClient>("llama");
        IChatClient qwen = host.Services.GetRequiredKeyedService<IChatClient>("qwen");
        await llama.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2 });
        await qwen.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2 });

        Assert.That(llama, Is.Not.SameAs(qwen));
        Assert.That(llama.GetService<LlamaModel>()!.Path, Is.EqualTo(TinyPath));
        Assert.That(qwen.GetService<LlamaModel>()!.Path, Is.EqualTo(chatml));
        Assert.That(host.Services.GetRequiredKeyedService<LlamaModel>("qwen").Metadata.ChatTemplate, Does.Contain("<|im_start|>"));
    }

    [Test]
    public void AMissingModelFile_FailsStartUpNamingTheSettingAndPath()
    {
        string missing = Path.Combine(TestEnvironment.CreateTempDirectory(), "nope.gguf");

        OptionsValidationException ex = StartFails(o => o.ModelPath = missing);

        Assert.That(ex.Message, Does.Contain("LocalLlm:ModelPath").And.Contain(missing).And.Contain("does not exist"));
    }

    [Test]
    public void AnImpossibleContextSizeOrThreadCount_FailsStartUpNamingEach()
    {
        OptionsValidationException ex = StartFails(o =>
        {
            o.ModelPath = TinyPath;
            o.ContextSize = 4;
            o.ThreadCount = 0;
        });

        Assert.That(ex.Failures, Has.Some.Contains("LocalLlm:ContextSize").And.Some.Contains("but was 4"));
        Assert.That(ex.Failures, Has.Some.Contains("LocalLlm:ThreadCount").And.Some.Contains("but was 0"));
    }

    [Test]
    public void AnUnknownChatTemplateName_FailsStartUp()
    {
        OptionsValidationException ex = StartFails(o =>
        {
            o.ModelPath = TinyPath;
            o.ChatTemplate = "klingon";
        });

        Assert.That(ex.Message, Does.Contain("LocalLlm:ChatTemplate 'klingon'").And.Contain("chatml"));
    }

    [Test]
    public async Task WithoutWarmUp_TheModelLoadsOnFirstUse_AndWithWarmUp_WhileTheHostStarts()
    {
        HostApplicationBuilder lazyBuilder = Host.CreateApplicationBuilder();
        lazyBuilder.Services.AddLocalLlm(o => { o.ModelPath = TinyPath; o.ContextSize = 256; });
        using IHost lazy = lazyBuilder.Build();
        await lazy.StartAsync();

        HostApplicationBuilder warmBuilder = Host.CreateApplicationBuilder();
        warmBuilder.Services.AddLocalLlm(o => { o.ModelPath = TinyPath; o.ContextSize = 256; o.WarmUp = true; });
        using IHost warm = warmBuilder.Build();
        await warm.StartAsync();

        Assert.That(lazy.Services.GetRequiredService<LocalLlmModelHost>().IsLoaded, Is.False);
        Assert.That(warm.Services.GetRequiredService<LocalLlmModelHost>().IsLoaded, Is.True);
    }

    [Test]
    public async Task DisposingTheHost_DisposesTheModelAndTheChatClient()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddLocalLlm(o => { o.ModelPath = TinyPath; o.ContextSize = 256; o.ThreadCount = 2; });
        IHost host = builder.Build();
        await host.StartAsync();
        IChatClient chat = host.Services.GetRequiredService<IChatClient>();
        await chat.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 1 });
        LlamaModel model = host.Services.GetRequiredService<LlamaModel>();

        await host.StopAsync();
        host.Dispose();

        Assert.That(model.IsDisposed, Is.True);
        Assert.That(() => chat.GetStreamingResponseAsync("Hi"), Throws.TypeOf<ObjectDisposedException>());
    }

    private static OptionsValidationException StartFails(Action<LocalLlmOptions> configure)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddLocalLlm(configure);
        using IHost host = builder.Build();
        return Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync())!;
    }
}
