using System.Text;
using System.Text.Json;
using LocalLlm.Native;
using LocalLlm.Tests.Inference;

namespace LocalLlm.Tests.Native;

/// <summary>
/// The chat shim's C surface (build/native/localllm_chat.cpp over llama.cpp's common/chat.h): every field of its JSON
/// inputs reaches llama.cpp, every field of its outputs comes back, failures come back as messages, and the reasoning
/// budget sampler's states read as the shim documents them.
/// </summary>
public sealed unsafe class ChatLayerAbiTests : TinyModelFixture
{
    // Prints what the template engine was given, so the test can read each input back.
    private const string EchoTemplate =
        "{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m.reasoning_content }}|{{ m.tool_call_id }}|{{ m.name }}" +
        "{% for c in m.tool_calls %}|call:{{ c.id }}:{{ c.function.name }}:{{ c.function.arguments | tojson }}{% endfor %}]{% endfor %}" +
        "{% for t in tools %}<tool:{{ t.function.name }}:{{ t.function.description }}:{{ t.function.parameters | tojson }}>{% endfor %}" +
        "<bos:{{ bos_token }}><eos:{{ eos_token }}><kw:{{ custom }}><think:{{ enable_thinking }}>" +
        "{% if add_generation_prompt %}<gen>{% endif %}";

    [Test]
    public void TheShimLoaded_WithTheAbiVersionThisAssemblyBinds()
    {
        Assert.That(() => NativeLibraryLoader.EnsureChatLayer(), Throws.Nothing);
        Assert.That(NativeMethods.localllm_chat_abi_version(), Is.EqualTo(NativeMethods.ChatLayerAbiVersion));
    }

    [Test]
    public void EveryInputField_ReachesTheTemplate()
    {
        using SafeChatTemplatesHandle templates = NativeChatLayer.InitTemplates(null, EchoTemplate, "<B>", "<E>");
        string inputs = """
            {"messages":[
              {"role":"user","content":"héllo 🦙"},
              {"role":"assistant","content":"","reasoning_content":"mulling","tool_calls":[{"type":"function","id":"c1","function":{"name":"get_time","arguments":"{\"tz\":\"UTC\"}"}}]},
              {"role":"tool","content":"noon","tool_call_id":"c1","name":"get_time"}],
             "tools":[{"type":"function","function":{"name":"get_time","description":"Gets the time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}],
             "add_generation_prompt":true,"enable_thinking":false,"chat_template_kwargs":{"custom":"\"kwarg value\""}}
            """;

        string prompt = Rendering(NativeChatLayer.Apply(templates, inputs)).GetProperty("prompt").GetString()!;

        Assert.Multiple(() =>
        {
            Assert.That(prompt, Does.Contain("[user|héllo 🦙|"));
            Assert.That(prompt, Does.Contain("[assistant||mulling|"));
            Assert.That(prompt, Does.Contain("|call:c1:get_time:"));
            Assert.That(prompt, Does.Contain("\"tz\"").And.Contain("\"UTC\""));
            Assert.That(prompt, Does.Contain("[tool|noon||c1|get_time]"));
            Assert.That(prompt, Does.Contain("<tool:get_time:Gets the time:"));
            Assert.That(prompt, Does.Contain("<bos:<B>><eos:<E>>"));
            Assert.That(prompt, Does.Contain("<kw:kwarg value>"));
            Assert.That(prompt, Does.Contain("<think:False>"));
            Assert.That(prompt, Does.EndWith("<gen>"));
        });

        string withoutGenerationPrompt = Rendering(NativeChatLayer.Apply(templates, """{"messages":[{"role":"user","content":"x"}],"add_generation_prompt":false}""")).GetProperty("prompt").GetString()!;
        Assert.That(withoutGenerationPrompt, Does.Not.Contain("<gen>"));
    }

    [Test]
    public void EveryOutputField_ComesBack_ForAToolAndThinkingTemplate()
    {
        using SafeChatTemplatesHandle templates = NativeChatLayer.InitTemplates(null, File.ReadAllText(TemplatePath("Qwen-Qwen3-0.6B.jinja")));
        string inputs = """
            {"messages":[{"role":"user","content":"hi"}],
             "tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}}}],
             "tool_choice":"auto","parallel_tool_calls":true}
            """;

        ChatTemplateRendering rendering = ChatTemplateRendering.FromJson(NativeChatLayer.Apply(templates, inputs));

        Assert.Multiple(() =>
        {
            Assert.That(rendering.Prompt, Does.Contain("<tools>").And.EndWith("<|im_start|>assistant\n"));
            Assert.That(rendering.FormatName, Is.EqualTo("peg-native"));
            Assert.That(rendering.Format, Is.EqualTo(2));
            Assert.That(rendering.Grammar, Does.Contain("get_time").And.Contain("root ::="));
            Assert.That(rendering.GrammarLazy, Is.True);
            Assert.That(rendering.GenerationPrompt, Is.EqualTo("<|im_start|>assistant\n"));
            Assert.That(rendering.SupportsThinking, Is.True);
            Assert.That(rendering.ThinkingStartTag, Is.EqualTo("<think>"));
            Assert.That(rendering.ThinkingEndTags, Is.EqualTo(new[] { "</think>" }));
            Assert.That(rendering.PreservedTokens, Does.Contain("<tool_call>").And.Contain("</think>"));
            Assert.That(rendering.GrammarTriggers, Is.EqualTo(new[] { new ChatGrammarTrigger(ChatGrammarTriggerType.Word, "<tool_call>\n", -1) }));
            Assert.That(rendering.Parser, Is.Not.Empty);
        });

        string required = NativeChatLayer.Apply(templates, inputs.Replace("\"auto\"", "\"required\"", StringComparison.Ordinal));
        string none = NativeChatLayer.Apply(templates, inputs.Replace("\"auto\"", "\"none\"", StringComparison.Ordinal));
        string schema = NativeChatLayer.Apply(templates, """{"messages":[{"role":"user","content":"hi"}],"json_schema":{"type":"object","properties":{"zebra":{"type":"boolean"}}}}""");
        Assert.Multiple(() =>
        {
            Assert.That(Rendering(required).GetProperty("grammar_lazy").GetBoolean(), Is.False, "tool_choice reaches llama.cpp");
            Assert.That(Rendering(none).GetProperty("grammar").GetString(), Is.Empty);
            Assert.That(Rendering(schema).GetProperty("grammar").GetString(), Does.Contain("zebra"), "json_schema reaches llama.cpp");
        });
    }

    [Test]
    public void TheRemainingInputFields_ChangeWhatLlamaCppReturns()
    {
        using SafeChatTemplatesHandle qwen3 = NativeChatLayer.InitTemplates(null, File.ReadAllText(TemplatePath("Qwen-Qwen3-0.6B.jinja")));
        using SafeChatTemplatesHandle llama3 = NativeChatLayer.InitTemplates(null, "llama3");
        const string Tools = """[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]""";
        string Apply(SafeChatTemplatesHandle templates, string fields) => NativeChatLayer.Apply(templates, $$"""{"messages":[{"role":"user","content":"hi"}]{{fields}}}""");

        string toolsField = ",\"tools\":" + Tools;
        Assert.Multiple(() =>
        {
            Assert.That(
                Rendering(Apply(qwen3, toolsField + ",\"parallel_tool_calls\":true")).GetProperty("grammar").GetString(),
                Is.Not.EqualTo(Rendering(Apply(qwen3, toolsField + ",\"parallel_tool_calls\":false")).GetProperty("grammar").GetString()),
                "parallel_tool_calls reaches llama.cpp");
            Assert.That(
                Rendering(Apply(qwen3, ",\"reasoning_format\":\"none\"")).GetProperty("parser").GetString(),
                Is.Not.EqualTo(Rendering(Apply(qwen3, ",\"reasoning_format\":\"auto\"")).GetProperty("parser").GetString()),
                "reasoning_format reaches llama.cpp");
            Assert.That(Rendering(Apply(llama3, ",\"use_jinja\":false")).GetProperty("prompt").GetString(), Does.Contain("<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"), "use_jinja false: the built-in family");
            Assert.That(Rendering(Apply(llama3, ",\"use_jinja\":true")).GetProperty("prompt").GetString(), Is.EqualTo("llama3"), "use_jinja true: the name is Jinja text");
        });
    }

    [Test]
    public void TheParser_ReadsContentReasoningAndToolCalls_WithEveryParameter()
    {
        using SafeChatTemplatesHandle templates = NativeChatLayer.InitTemplates(null, File.ReadAllText(TemplatePath("Qwen-Qwen3-0.6B.jinja")));
        ChatTemplateRendering rendering = ChatTemplateRendering.FromJson(NativeChatLayer.Apply(templates, """
            {"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]}
            """));
        string Parameters(bool parseToolCalls) =>
            $$"""{"format":{{rendering.Format}},"reasoning_format":"auto","generation_prompt":{{JsonSerializer.Serialize(rendering.GenerationPrompt)}},"parse_tool_calls":{{(parseToolCalls ? "true" : "false")}},"parser":{{JsonSerializer.Serialize(rendering.Parser)}}}""";
        byte[] reply = Encoding.UTF8.GetBytes("<think>\nplan\n</think>\n\nSure.\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}\n</tool_call>");

        using SafeChatParserHandle parser = NativeChatLayer.CreateParser(Parameters(parseToolCalls: true));
        JsonElement message = Rendering(NativeChatLayer.Parse(parser, reply, isPartial: false));

        Assert.Multiple(() =>
        {
            Assert.That(message.GetProperty("role").GetString(), Is.EqualTo("assistant"));
            Assert.That(message.GetProperty("reasoning_content").GetString()!.Trim(), Is.EqualTo("plan"));
            Assert.That(message.GetProperty("content").GetString()!.Trim(), Is.EqualTo("Sure."));
            JsonElement call = message.GetProperty("tool_calls").EnumerateArray().Single();
            Assert.That(call.GetProperty("function").GetProperty("name").GetString(), Is.EqualTo("get_time"));
            Assert.That(JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("tz").GetString(), Is.EqualTo("UTC"));
        });

        var ex = Assert.Throws<NativeChatLayerException>(() => NativeChatLayer.CreateParser("{not json"));
        Assert.That(ex!.Message, Does.Contain("parse"));
    }

    [Test]
    public void JsonSchemaToGrammar_ConvertsOrNamesWhatItCannot()
    {
        string grammar = NativeChatLayer.JsonSchemaToGrammar("""{"type":"object","properties":{"zebra":{"type":"integer"}},"required":["zebra"]}""");

        var ex = Assert.Throws<NativeChatLayerException>(() => NativeChatLayer.JsonSchemaToGrammar("""{"type":"strin"}"""));

        Assert.That(grammar, Does.Contain("root ::=").And.Contain("zebra"));
        Assert.That(ex!.Message, Does.Contain("unrecognized type strin"));
    }

    [Test]
    public void TemplatesThatAreNotJinja_FailWithTheParsersMessage_NotACrash()
    {
        var ex = Assert.Throws<NativeChatLayerException>(() => NativeChatLayer.InitTemplates(null, "{% if %}"));

        Assert.That(ex!.Message, Is.Not.Empty.And.Not.EqualTo("std::exception"));
    }

    [Test]
    public void TheReasoningBudget_CountsForcesAndEnds_InTheStatesTheShimDocuments()
    {
        int[] start = Model.Tokenizer.Tokenize(" open", addSpecial: false);
        int[] end = Model.Tokenizer.Tokenize(" close", addSpecial: false);
        int word = Model.Tokenizer.Tokenize(" word", addSpecial: false).Single();
        using SafeLlamaSamplerHandle budget = NativeChatLayer.CreateReasoningBudget(Model.Tokenizer.Vocabulary, start, [end], end, budget: 2, inReasoning: false);

        Assert.That(NativeChatLayer.GetReasoningBudgetState(budget), Is.EqualTo(ReasoningBudgetState.Idle));
        Accept(budget, start);
        Assert.That(NativeChatLayer.GetReasoningBudgetState(budget), Is.EqualTo(ReasoningBudgetState.Counting));
        Accept(budget, [word, word]);
        Assert.That(NativeChatLayer.GetReasoningBudgetState(budget), Is.EqualTo(ReasoningBudgetState.Forcing));
        Assert.That(AllowedAfterApply(budget), Is.EqualTo(new[] { end[0] }), "forcing allows only the next forced token");
        Accept(budget, end);
        Assert.That(NativeChatLayer.GetReasoningBudgetState(budget), Is.EqualTo(ReasoningBudgetState.Done));
        Assert.That(NativeChatLayer.GetReasoningBudgetEndMatch(budget), Is.EqualTo(end).Or.Empty);

        using SafeLlamaSamplerHandle opened = NativeChatLayer.CreateReasoningBudget(Model.Tokenizer.Vocabulary, start, [end], end, budget: 5, inReasoning: true);
        Assert.That(NativeChatLayer.GetReasoningBudgetState(opened), Is.EqualTo(ReasoningBudgetState.Counting), "in_reasoning starts inside the block");
    }

    [Test]
    public void AGrammarGivenATokenItCannotTake_ThrowsLlamaException_InsteadOfEndingTheProcess()
    {
        using SafeLlamaSamplerHandle grammar = SafeLlamaSamplerHandle.CreateGrammar(Model.Tokenizer.Vocabulary, "root ::= \"yes\"", "root");
        int no = Model.Tokenizer.Tokenize("no", addSpecial: false).First();

        var ex = Assert.Throws<LlamaException>(() => NativeChatLayer.Accept(grammar, no));

        Assert.That(ex!.Message, Does.Contain($"token {no}").And.Contain("grammar"));
    }

    private static void Accept(SafeLlamaSamplerHandle sampler, int[] tokens)
    {
        foreach (int token in tokens)
        {
            NativeMethods.llama_sampler_accept(sampler, token);
        }
    }

    private int[] AllowedAfterApply(SafeLlamaSamplerHandle sampler)
    {
        int vocabulary = Model.Tokenizer.VocabularySize;
        var data = new llama_token_data[vocabulary];
        for (int i = 0; i < vocabulary; i++)
        {
            data[i] = new llama_token_data { id = i, logit = 0f };
        }

        fixed (llama_token_data* pointer = data)
        {
            var array = new llama_token_data_array { data = pointer, size = (nuint)vocabulary, selected = -1 };
            NativeMethods.llama_sampler_apply(sampler, &array);
        }

        return [.. data.Where(d => !float.IsNegativeInfinity(d.logit)).Select(d => d.id)];
    }

    private static JsonElement Rendering(string json) => JsonDocument.Parse(json).RootElement;

    private static string TemplatePath(string file) => Path.Combine(TestEnvironment.LlamaCppSourceDirectory, "models", "templates", file);
}
