using LocalLlm.ModelGenerator;
using LocalLlm.Tests.Inference;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Chat;

/// <summary>llama-server's template conventions through <see cref="LlamaChatClient"/>: instructions, template variables, the ChatML fallback.</summary>
public sealed class ChatClientConventionTests : TinyModelFixture
{
    [Test]
    public async Task Instructions_JoinTheSystemMessage_OrOpenTheConversationAsOne()
    {
        using var logs = new RecordingLoggerProvider();
        using LlamaChatClient client = CreateClient(logs);
        var options = new ChatOptions { Instructions = "Answer in French.", MaxOutputTokens = 1 };

        await client.GetResponseAsync([new ChatMessage(ChatRole.System, "You are a llama."), new ChatMessage(ChatRole.User, "Hi")], options);
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options);

        string[] prompts = Prompts(logs);
        Assert.That(prompts[0], Does.Contain("\n\nYou are a llama.\n\nAnswer in French.<|eot_id|><|start_header_id|>user"));
        Assert.That(prompts[1], Does.Contain("Answer in French.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"));
    }

    [Test]
    public async Task TemplateVariables_FromTheClientAndTheRequest_ReachTheTemplate()
    {
        using var logs = new RecordingLoggerProvider();
        string template = "{{ greeting }}, {{ name }}|{% for m in messages %}{{ m.content }}{% endfor %}";
        var clientOptions = new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 }, TemplateText = template };
        clientOptions.TemplateVariables["greeting"] = "Hello";
        clientOptions.TemplateVariables["name"] = "client";
        using var client = new LlamaChatClient(Model, clientOptions, LoggerFactory(logs));

        await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 1, AdditionalProperties = new() { ["chat_template_kwargs"] = new Dictionary<string, object?> { ["name"] = "request" } } });

        Assert.That(Prompts(logs).Single(), Does.EndWith("\nHello, request|Hi"), "the request's variable overrides the client's; the client's other one stays");
    }

    [Test]
    public async Task AModelWithoutATemplate_IsChattedWithInChatML_WithOneWarning()
    {
        using LlamaModel untemplated = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelSpec.For(ModelShape.Tiny) with { ChatTemplateFile = null, Variant = "notmpl" }));
        using var logs = new RecordingLoggerProvider();
        using var client = new LlamaChatClient(untemplated, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 } }, LoggerFactory(logs));

        await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 1 });
        await client.GetResponseAsync("Hi again", new ChatOptions { MaxOutputTokens = 1 });

        Assert.That(Prompts(logs)[0], Does.EndWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        Assert.That(logs.Records.Count(r => r.Level == LogLevel.Warning && r.Message.Contains("has no chat template", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task RequireModelTemplate_MakesAModelWithoutOneAnError()
    {
        using LlamaModel untemplated = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelSpec.For(ModelShape.Tiny) with { ChatTemplateFile = null, Variant = "notmpl" }));
        using var client = new LlamaChatClient(untemplated, new LlamaChatClientOptions { RequireModelTemplate = true, Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 } });

        var ex = Assert.ThrowsAsync<LlamaChatTemplateException>(() => client.GetResponseAsync("Hi"));

        Assert.That(ex!.Message, Does.Contain("has no chat template").And.Contain("RequireModelTemplate").And.Contain(untemplated.Path));
    }

    [Test]
    public async Task ABuiltInTemplateName_StaysAnExplicitOverride_WithoutTools()
    {
        using var logs = new RecordingLoggerProvider();
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { TemplateName = "chatml", Context = new LlamaContextOptions { ContextSize = 256, ThreadCount = 2 } }, LoggerFactory(logs));

        await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 1 });
        var ex = Assert.ThrowsAsync<LlamaChatTemplateException>(() => client.GetResponseAsync("Hi", new ChatOptions { Tools = [AIFunctionFactory.Create(() => 1, "one")] }));

        Assert.That(Prompts(logs)[0], Does.EndWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        Assert.That(ex!.Message, Does.Contain("'chatml'").And.Contain("cannot offer tools"));
    }

    [Test]
    public async Task UnderAddLocalLlm_TheDefaultModelId_IsKnownBeforeTheModelLoads_ForChatAndEmbeddings()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddLocalLlm(o => o.ModelPath = path);
        builder.Services.AddKeyedLocalLlm("named", o =>
        {
            o.ModelPath = path;
            o.ModelId = "my-llama";
        });
        using IHost host = builder.Build();

        IChatClient chat = host.Services.GetRequiredService<IChatClient>();
        IEmbeddingGenerator<string, Embedding<float>> embeddings = host.Services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        IChatClient named = host.Services.GetRequiredKeyedService<IChatClient>("named");

        Assert.That(chat.GetService<LlamaModel>(), Is.Null, "nothing has loaded the model yet");
        Assert.That(chat.GetService<ChatClientMetadata>()!.DefaultModelId, Is.EqualTo(Path.GetFileNameWithoutExtension(path)));
        Assert.That(embeddings.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId, Is.EqualTo(Path.GetFileNameWithoutExtension(path)));
        Assert.That(named.GetService<ChatClientMetadata>()!.DefaultModelId, Is.EqualTo("my-llama"));
        await Task.CompletedTask;
    }

    private LlamaChatClient CreateClient(RecordingLoggerProvider logs) =>
        new(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 512, ThreadCount = 2 } }, LoggerFactory(logs));

    private static ILoggerFactory LoggerFactory(RecordingLoggerProvider logs) =>
        Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));

    private static string[] Prompts(RecordingLoggerProvider logs) =>
        [.. logs.Records.Where(r => r.Message.StartsWith("Rendered prompt", StringComparison.Ordinal)).Select(r => r.Message)];
}
