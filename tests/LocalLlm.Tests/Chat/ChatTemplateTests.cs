using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Chat;

/// <summary>Chat templates read from generated models whose metadata carries real templates of several families.</summary>
public sealed class ChatTemplateTests
{
    private static readonly LlamaChatMessage[] Conversation =
    [
        LlamaChatMessage.User("Hello there"),
        LlamaChatMessage.Assistant("Hi! How can I help?"),
        LlamaChatMessage.User("Tell me about llamas"),
    ];

    [TestCase(null, "<|start_header_id|>user<|end_header_id|>\n\nHello there<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n")]
    [TestCase("Qwen-Qwen2.5-7B-Instruct.jinja", "<|im_start|>user\nHello there<|im_end|>\n", "<|im_start|>assistant\n")]
    [TestCase("google-gemma-2-2b-it.jinja", "<start_of_turn>user\nHello there<end_of_turn>\n", "<start_of_turn>model\n")]
    [TestCase("microsoft-Phi-3.5-mini-instruct.jinja", "<|user|>\nHello there<|end|>\n", "<|assistant|>\n")]
    [TestCase("mistralai-Mistral-Nemo-Instruct-2407.jinja", "[INST]Hello there[/INST]", "[INST]Tell me about llamas[/INST]")]
    public async Task TheModelsOwnTemplate_FormatsTheConversationInItsFamily(string? templateFile, string firstTurn, string ending)
    {
        ModelSpec spec = ModelSpec.For(ModelShape.Tiny);
        if (templateFile is not null)
        {
            spec = spec with { ChatTemplateFile = templateFile, Variant = Path.GetFileNameWithoutExtension(templateFile).Split('-')[0].ToLowerInvariant() + "tmpl" };
        }

        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(spec));
        LlamaChatTemplate template = LlamaChatTemplate.FromModel(model);

        string prompt = template.Apply(Conversation);

        TestContext.Out.WriteLine(prompt);
        Assert.That(template.Source, Is.EqualTo(model.Metadata.ChatTemplate));
        Assert.That(prompt, Does.Contain(firstTurn));
        Assert.That(prompt, Does.EndWith(ending));
        Assert.That(prompt, Does.Contain("Hi! How can I help?"));
    }

    [Test]
    public void WithoutTheAssistantPrefix_TheLastTurnIsTheEnd()
    {
        LlamaChatTemplate template = LlamaChatTemplate.FromName("chatml");

        Assert.That(template.Apply(Conversation, addAssistantPrefix: false), Does.EndWith("Tell me about llamas<|im_end|>\n"));
    }

    [Test]
    public void BuiltInNames_IncludeTheMainFamilies()
    {
        Assert.That(LlamaChatTemplate.BuiltInNames, Is.SupersetOf(new[] { "chatml", "llama3", "gemma", "phi3", "mistral-v7", "deepseek3" }));
    }

    [Test]
    public void UnknownTemplateName_ThrowsListingTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => LlamaChatTemplate.FromName("klingon"));

        Assert.That(ex!.ParamName, Is.EqualTo("name"));
        Assert.That(ex.Message, Does.Contain("'klingon'").And.Contain("chatml"));
    }

    [Test]
    public void AnyJinjaTemplateText_RendersThroughLlamaCppsEngine()
    {
        LlamaChatTemplate template = LlamaChatTemplate.FromText("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}");

        Assert.That(template.Apply(Conversation), Is.EqualTo("[user] Hello there\n[assistant] Hi! How can I help?\n[user] Tell me about llamas\n[assistant] "));
    }

    [Test]
    public void TemplateTextThatIsNotJinja_ThrowsWithTheParsersMessage()
    {
        var ex = Assert.Throws<LlamaChatTemplateException>(() => LlamaChatTemplate.FromText("{% for m in messages %}{{ m.content }}"));

        Assert.That(ex!.Message, Does.Contain("{% for m in messages %}").And.Contain("not valid Jinja").And.Contain("Unexpected token"));
    }

    [Test]
    public void ATemplateThatRaises_ThrowsWithTheTemplatesOwnMessage()
    {
        LlamaChatTemplate template = LlamaChatTemplate.FromText("{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user turn') }}{% endif %}{{ messages[0].content }}");

        var ex = Assert.Throws<LlamaChatTemplateException>(() => template.Apply([LlamaChatMessage.Assistant("hi")]));

        Assert.That(ex!.Message, Does.Contain("Conversations must start with a user turn"));
    }

    [Test]
    public async Task AModelWithoutATemplate_FallsBackToChatML()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Embedding));

        LlamaChatTemplate template = LlamaChatTemplate.FromModel(model);

        Assert.That(template.IsChatMLFallback, Is.True);
        Assert.That(template.Apply([LlamaChatMessage.User("hi")]), Is.EqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));
    }
}
