using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LocalLlm.Tests.Chat;

/// <summary>
/// Fixed model outputs in the reply formats of the main model families, with two tools offered through each family's
/// real chat template (from the pinned llama.cpp source), read back through the path a chat session streams a reply
/// through: the tokens through <see cref="CompletionText"/>, the text through <see cref="ChatReplyParser"/>.
/// </summary>
/// <remarks>
/// The outputs take the shapes llama.cpp's tests/test-chat.cpp gives each template. The vocab-only GGUFs shipped with
/// llama.cpp hold none of these formats' markup as a single token, so every marker and every call arrives split across
/// several tokens. Answers and reasoning are compared without their surrounding whitespace, as test-chat.cpp does.
/// </remarks>
public sealed class ReplyParserFamilyTests
{
    private const string Answer = "Paris is sunny today.";
    private const string Weather = """{"city": "Paris"}""";
    private const string Time = """{"timezone": "Europe/Paris"}""";

    // No format's markup, and nothing of a call, may reach the answer or the reasoning.
    private static readonly string[] Markup =
    [
        "<tool_call>", "</tool_call>", "<function=", "<parameter=", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<think>", "</think>",
        "<｜tool", "<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|constrain|>", ">>>", "<|START_", "<|END_",
        "<|tool_call", "<arg_key>", "<arg_value>", "<|tool_calls_section", "functions.", "get_weather", "get_time", "\"city\"", "Europe/Paris",
    ];

    private static readonly LlamaChatTool[] Tools =
    [
        new("get_weather", "Gets the current weather in a city.", Schema("city")),
        new("get_time", "Gets the current time in a time zone.", Schema("timezone")),
    ];

    private static readonly FamilyCase[] Cases =
    [
        // Hermes 2 Pro / Qwen2.5: Qwen's own tokenizer (qwen2).
        new("Hermes (Qwen2.5): answer", "Qwen-Qwen2.5-7B-Instruct.jinja", "qwen2", Answer, Content: Answer),
        new("Hermes (Qwen2.5): text then two parallel calls", "Qwen-Qwen2.5-7B-Instruct.jinja", "qwen2",
            "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"timezone\": \"Europe/Paris\"}}\n</tool_call>",
            Content: "Let me check.", Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // Qwen3 (thinking on; the model opens <think> itself): Qwen3 keeps Qwen2's tokenizer (qwen2).
        new("Qwen3: reasoning then answer", "Qwen-Qwen3-0.6B.jinja", "qwen2",
            "<think>\nA simple question.\n</think>\n\n" + Answer, Content: Answer, Reasoning: "A simple question."),
        new("Qwen3: reasoning then one call", "Qwen-Qwen3-0.6B.jinja", "qwen2",
            "<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
            Reasoning: "The user wants the weather.", Calls: [new("get_weather", Weather)]),
        new("Qwen3: reasoning then two parallel calls", "Qwen-Qwen3-0.6B.jinja", "qwen2",
            "<think>\nThe user wants both.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"timezone\": \"Europe/Paris\"}}\n</tool_call>",
            Reasoning: "The user wants both.", Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // Qwen3-Coder's XML calls: qwen2.
        new("Qwen3-Coder: answer", "Qwen3-Coder.jinja", "qwen2", Answer, Content: Answer),
        new("Qwen3-Coder: text then two parallel XML calls", "Qwen3-Coder.jinja", "qwen2",
            "I will look it up.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>\n" +
            "<tool_call>\n<function=get_time>\n<parameter=timezone>\nEurope/Paris\n</parameter>\n</function>\n</tool_call>",
            Content: "I will look it up.", Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // Llama 3.1 / 3.2 JSON calls (no parallel calls in this format): Llama 3's tokenizer (llama-bpe).
        new("Llama 3.1: answer", "meta-llama-Llama-3.1-8B-Instruct.jinja", "llama-bpe", Answer, Content: Answer),
        new("Llama 3.1: JSON call", "meta-llama-Llama-3.1-8B-Instruct.jinja", "llama-bpe",
            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", Calls: [new("get_weather", Weather)]),
        new("Llama 3.1: JSON call with the function type", "meta-llama-Llama-3.1-8B-Instruct.jinja", "llama-bpe",
            "{\"type\": \"function\", \"name\": \"get_time\", \"parameters\": {\"timezone\": \"Europe/Paris\"}}", Calls: [new("get_time", Time)]),
        new("Llama 3.2: JSON call", "meta-llama-Llama-3.2-3B-Instruct.jinja", "llama-bpe",
            "{\"name\": \"get_time\", \"parameters\": {\"timezone\": \"Europe/Paris\"}}", Calls: [new("get_time", Time)]),

        // Mistral: llama.cpp ships no Tekken vocabulary, so llama-bpe (also a tiktoken-style byte BPE) stands in.
        new("Mistral Nemo: answer", "mistralai-Mistral-Nemo-Instruct-2407.jinja", "llama-bpe", Answer, Content: Answer),
        new("Mistral Nemo: two parallel calls with their own ids", "mistralai-Mistral-Nemo-Instruct-2407.jinja", "llama-bpe",
            "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abcDEF123\"}, " +
            "{\"name\": \"get_time\", \"arguments\": {\"timezone\": \"Europe/Paris\"}, \"id\": \"xyz789ABC\"}]",
            Calls: [new("get_weather", Weather, "abcDEF123"), new("get_time", Time, "xyz789ABC")]),
        new("Devstral: text then one call", "unsloth-mistral-Devstral-Small-2507.jinja", "llama-bpe",
            "Let me check.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", Content: "Let me check.", Calls: [new("get_weather", Weather)]),
        new("Devstral: two parallel calls", "unsloth-mistral-Devstral-Small-2507.jinja", "llama-bpe",
            "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{\"timezone\": \"Europe/Paris\"}",
            Calls: [new("get_weather", Weather), new("get_time", Time)]),
        new("Mistral Small 3.2: two parallel calls with their own ids", "Mistral-Small-3.2-24B-Instruct-2506.jinja", "llama-bpe",
            "[TOOL_CALLS]get_weather[CALL_ID]000000001[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[CALL_ID]000000002[ARGS]{\"timezone\": \"Europe/Paris\"}",
            Calls: [new("get_weather", Weather, "000000001"), new("get_time", Time, "000000002")],
            Ignore: "llama.cpp's autoparser misreads this template's [CALL_ID] layout whenever the template sees a non-empty eos_token " +
                "(any real model's): its grammar expects name[ARGS][CALL_ID]id[ARGS]. It parses with the empty BOS/EOS of test-chat.cpp."),

        // DeepSeek R1 (llama.cpp's R1 template, which shows the tools; it opens <think>, so the reply starts inside the
        // reasoning): the R1 distills keep their base's tokenizer, here Qwen2.5's (qwen2).
        new("DeepSeek R1: reasoning then answer", "llama-cpp-deepseek-r1.jinja", "qwen2",
            "A simple question.\n</think>\n\n" + Answer, Content: Answer, Reasoning: "A simple question."),
        new("DeepSeek R1: reasoning then two parallel calls", "llama-cpp-deepseek-r1.jinja", "qwen2",
            "The user wants both.\n</think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n" +
            "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\"timezone\": \"Europe/Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
            Reasoning: "The user wants both.", Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // DeepSeek V3.1 (the template opens <think>, and shows no tools): DeepSeek's byte BPE (deepseek-llm; V3's is not shipped).
        new("DeepSeek V3.1: reasoning then answer", "deepseek-ai-DeepSeek-V3.1.jinja", "deepseek-llm",
            "A simple question.</think>" + Answer, Content: Answer, Reasoning: "A simple question."),
        new("DeepSeek V3.1: reasoning, text, two parallel calls", "deepseek-ai-DeepSeek-V3.1.jinja", "deepseek-llm",
            "The user wants both.</think>Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}<｜tool▁call▁end｜>" +
            "<｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{\"timezone\": \"Europe/Paris\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
            Content: "Checking.", Reasoning: "The user wants both.", Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // gpt-oss (harmony channels; a call ends the turn, so one call per reply): o200k is not shipped, so llama-bpe.
        new("gpt-oss: analysis then final answer", "openai-gpt-oss-120b.jinja", "llama-bpe",
            "<|channel|>analysis<|message|>A simple question.<|end|><|start|>assistant<|channel|>final<|message|>" + Answer,
            Content: Answer, Reasoning: "A simple question."),
        new("gpt-oss: analysis then one call", "openai-gpt-oss-120b.jinja", "llama-bpe",
            "<|channel|>analysis<|message|>The user wants the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\"}",
            Reasoning: "The user wants the weather.", Calls: [new("get_weather", Weather)]),

        // Functionary v3.2 (the template opens ">>>", so the reply starts at the recipient): a Llama 3.1 fine-tune (llama-bpe).
        new("Functionary v3.2: answer to all", "meetkai-functionary-medium-v3.2.jinja", "llama-bpe", "all\n" + Answer, Content: Answer),
        new("Functionary v3.2: one call", "meetkai-functionary-medium-v3.2.jinja", "llama-bpe",
            "get_weather\n{\"city\": \"Paris\"}", Calls: [new("get_weather", Weather)]),
        new("Functionary v3.2: two parallel calls", "meetkai-functionary-medium-v3.2.jinja", "llama-bpe",
            "get_weather\n{\"city\": \"Paris\"}\n>>>get_time\n{\"timezone\": \"Europe/Paris\"}", Calls: [new("get_weather", Weather), new("get_time", Time)],
            Ignore: "llama.cpp's parser for this template has no '>>>' between calls (its grammar is (tool-get-weather | tool-get-time)+), so a second call fails the parse."),

        // Command R7B: Cohere's Command R tokenizer (command-r).
        new("Command R7B: thinking then response", "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", "command-r",
            "<|START_THINKING|>A simple question.<|END_THINKING|><|START_RESPONSE|>" + Answer + "<|END_RESPONSE|>", Content: Answer, Reasoning: "A simple question."),
        new("Command R7B: thinking then two parallel calls with their own ids", "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", "command-r",
            "<|START_THINKING|>The user wants both.<|END_THINKING|><|START_ACTION|>[\n" +
            "    {\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}},\n" +
            "    {\"tool_call_id\": \"1\", \"tool_name\": \"get_time\", \"parameters\": {\"timezone\": \"Europe/Paris\"}}\n]<|END_ACTION|>",
            Reasoning: "The user wants both.", Calls: [new("get_weather", Weather, "0"), new("get_time", Time, "1")]),

        // Granite: no Granite vocabulary is shipped, so llama-bpe.
        new("Granite 3.3: thinking then answer", "ibm-granite-granite-3.3-2B-Instruct.jinja", "llama-bpe",
            "<think>A simple question.</think>" + Answer, Content: Answer, Reasoning: "A simple question."),
        new("Granite 3.3: two parallel calls", "ibm-granite-granite-3.3-2B-Instruct.jinja", "llama-bpe",
            "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {\"timezone\": \"Europe/Paris\"}}]",
            Calls: [new("get_weather", Weather), new("get_time", Time)],
            Ignore: "llama.cpp's autoparser finds no tool-call markup in this template (no trigger, no grammar, <|tool_call|> stays text); Granite 4.0's works."),
        new("Granite 4.0: answer", "ibm-granite-granite-4.0.jinja", "llama-bpe", Answer, Content: Answer),
        new("Granite 4.0: two parallel calls", "ibm-granite-granite-4.0.jinja", "llama-bpe",
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"timezone\": \"Europe/Paris\"}}\n</tool_call>",
            Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // GLM 4.5+ (the template stops at <|assistant|>; the model opens <think> on a new line): no GLM vocabulary, so llama-bpe.
        new("GLM 4.6: thinking then answer", "GLM-4.6.jinja", "llama-bpe", "\n<think>A simple question.</think>\n" + Answer, Content: Answer, Reasoning: "A simple question."),
        new("GLM 4.6: thinking, text, two parallel calls", "GLM-4.6.jinja", "llama-bpe",
            "\n<think>The user wants both.</think>\nChecking.<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>\n" +
            "<tool_call>get_time\n<arg_key>timezone</arg_key>\n<arg_value>Europe/Paris</arg_value>\n</tool_call>",
            Content: "Checking.", Reasoning: "The user wants both.", Calls: [new("get_weather", Weather), new("get_time", Time)]),

        // Kimi K2: no Kimi vocabulary, so llama-bpe.
        new("Kimi K2: answer", "moonshotai-Kimi-K2.jinja", "llama-bpe", Answer, Content: Answer),
        new("Kimi K2: text then two parallel calls with their own ids", "moonshotai-Kimi-K2.jinja", "llama-bpe",
            "Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\"}<|tool_call_end|>" +
            "<|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{\"timezone\": \"Europe/Paris\"}<|tool_call_end|><|tool_calls_section_end|>",
            Content: "Checking.", Calls: [new("get_weather", Weather, "functions.get_weather:0"), new("get_time", Time, "functions.get_time:1")]),
    ];

    private readonly Dictionary<string, LlamaModel> _models = [];

    public static IEnumerable<TestCaseData> FamilyCases() => Cases.Select(c =>
    {
        TestCaseData data = new TestCaseData(c.Name).SetArgDisplayNames(c.Name);
        return c.Ignore is null ? data : data.Ignore(c.Ignore);
    });

    [OneTimeTearDown]
    public void DisposeModels()
    {
        foreach (LlamaModel model in _models.Values)
        {
            model.Dispose();
        }
    }

    [TestCaseSource(nameof(FamilyCases))]
    public async Task StreamedTokenByToken_TheReplySplitsIntoTheAnswerTheReasoningAndTheCalls(string name)
    {
        FamilyCase c = Cases.Single(f => f.Name == name);
        LlamaModel model = await Model(c.Vocabulary);
        using ChatTurn turn = Prepare(c, model);
        var text = new StringBuilder();
        Streamed streamed = StreamTokenByToken(turn, model, c.Output, text);
        ChatReply reply = turn.Parser.Complete(cutOff: false, out string? error);

        Assert.That(text.ToString(), Is.EqualTo(c.Output), "the tokens give the output back as text");
        AssertReply(c, turn.Rendering, streamed, reply, error);
    }

    [TestCaseSource(nameof(FamilyCases))]
    public async Task FedOneCharacterAtATime_EveryMarkerSplitEverywhere_TheReplyParsesTheSame(string name)
    {
        FamilyCase c = Cases.Single(f => f.Name == name);
        using ChatTurn turn = Prepare(c, await Model(c.Vocabulary));
        var streamed = new Streamed();
        foreach (char ch in c.Output)
        {
            streamed.Add(turn.Parser, null, ch.ToString());
        }

        ChatReply reply = turn.Parser.Complete(cutOff: false, out string? error);

        AssertReply(c, turn.Rendering, streamed, reply, error);
    }

    [Test]
    public async Task ALlama3AnswerWithBracesThatAreNoCall_IsKeptWholeAsTheAnswer()
    {
        // Llama 3's JSON calls have no markup: llama.cpp's parser takes the '{' for a call and fails the whole reply.
        const string output = "Write the city as {city} in the template.";
        FamilyCase c = new("Llama 3.2: braces in the answer", "meta-llama-Llama-3.2-3B-Instruct.jinja", "llama-bpe", output);
        LlamaModel model = await Model(c.Vocabulary);
        using ChatTurn turn = Prepare(c, model);
        Streamed streamed = StreamTokenByToken(turn, model, output, text: null);
        ChatReply reply = turn.Parser.Complete(cutOff: false, out string? error);

        Assert.That(error, Is.Not.Null, "the reply does not match the format");
        Assert.That(reply.Content, Is.EqualTo(output));
        Assert.That(streamed.Content + reply.Remainder.Content, Is.EqualTo(output), "what was streamed and the remainder make the answer");
        Assert.That(reply.ToolCalls, Is.Empty);
    }

    [Test]
    public async Task AReplyTheTokenLimitCutOffMidCall_KeepsTheAnswerButNotTheCutCall()
    {
        const string output = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par";
        FamilyCase c = new("Qwen2.5: cut off mid-call", "Qwen-Qwen2.5-7B-Instruct.jinja", "qwen2", output);
        LlamaModel model = await Model(c.Vocabulary);
        using ChatTurn turn = Prepare(c, model);
        Streamed streamed = StreamTokenByToken(turn, model, output, text: null);
        ChatReply reply = turn.Parser.Complete(cutOff: true, out string? error);

        Assert.That(error, Is.Not.Null, "a half-written call does not match the format");
        Assert.That(reply.ToolCalls, Is.Empty, "a call half written is no call");
        Assert.That(turn.Parser.Complete(cutOff: false, out _).ToolCalls, Has.Count.EqualTo(1), "llama.cpp's lenient parse alone would report the half call");
        Assert.That((streamed.Content + reply.Remainder.Content).Trim(), Is.EqualTo("Let me check."));
        Assert.That(reply.Content, Does.Not.Contain("<tool_call>"));
    }

    // The output's tokens (special ones parsed) through CompletionText, as the session streams them, into the parser.
    private static Streamed StreamTokenByToken(ChatTurn turn, LlamaModel model, string output, StringBuilder? text)
    {
        var completion = new CompletionText(turn.Generation);
        byte[] piece = new byte[256];
        var streamed = new Streamed();
        foreach (int token in model.Tokenizer.Tokenize(output, addSpecial: false, parseSpecial: true))
        {
            streamed.Add(turn.Parser, text, completion.Append(token, model.Tokenizer, piece));
        }

        streamed.Add(turn.Parser, text, completion.Flush());
        return streamed;
    }

    private static void AssertReply(FamilyCase c, ChatTemplateRendering rendering, Streamed streamed, ChatReply reply, string? error)
    {
        string[] markup = [.. Markup.Concat(rendering.PreservedTokens).Concat(rendering.ThinkingEndTags).Append(rendering.ThinkingStartTag).Where(m => m.Length > 0).Distinct()];
        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Null, "the whole reply matches the format");
            Assert.That(streamed.Content + reply.Remainder.Content, Is.EqualTo(reply.Content), "the streamed answer and the remainder make the answer");
            Assert.That(streamed.Reasoning + reply.Remainder.Reasoning, Is.EqualTo(reply.Reasoning), "the streamed reasoning and the remainder make the reasoning");
            Assert.That(reply.Content.Trim(), Is.EqualTo(c.Content), "the answer");
            Assert.That(reply.Reasoning.Trim(), Is.EqualTo(c.Reasoning), "the reasoning");
            Assert.That(markup.Where(m => reply.Content.Contains(m, StringComparison.Ordinal)), Is.Empty, $"markup in the answer: {reply.Content}");
            Assert.That(markup.Where(m => reply.Reasoning.Contains(m, StringComparison.Ordinal)), Is.Empty, $"markup in the reasoning: {reply.Reasoning}");
            Assert.That(reply.ToolCalls.Select(t => t.Name).ToArray(), Is.EqualTo(c.Calls.Select(t => t.Name).ToArray()), "the calls, in order");
        });

        for (int i = 0; i < Math.Min(c.Calls.Length, reply.ToolCalls.Count); i++)
        {
            LlamaToolCall actual = reply.ToolCalls[i];
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(actual.Arguments), JsonNode.Parse(c.Calls[i].Arguments)), Is.True, $"call {i}'s arguments: {actual.Arguments}");
            Assert.That(actual.Id, c.Calls[i].Id is { } id ? Is.EqualTo(id) : Is.Not.Empty, $"call {i}'s id");
        }

        Assert.That(reply.ToolCalls.Select(t => t.Id).ToArray(), Is.Unique, "each call has its own id");
    }

    private static ChatTurn Prepare(FamilyCase c, LlamaModel model)
    {
        string jinja = File.ReadAllText(Path.Combine(TestEnvironment.LlamaCppSourceDirectory, "models", "templates", c.Template));
        var request = new ChatTemplateRequest
        {
            Messages = [LlamaChatMessage.User("What is the weather in Paris, and what time is it there?")],
            Tools = Tools,
            ParallelToolCalls = true,
            Now = new DateTimeOffset(2025, 7, 1, 12, 0, 0, TimeSpan.Zero),
        };
        ChatTurn turn = ChatTurn.Prepare(LlamaChatTemplate.FromText(jinja, model), model.Tokenizer, request, new LlamaGenerationOptions(), null, 8192, LlamaChatHistoryPolicy.Fail);
        string prompt = turn.Rendering.Prompt;
        bool offersTools = !jinja.Contains("tools", StringComparison.Ordinal) || (prompt.Contains("get_weather", StringComparison.Ordinal) && prompt.Contains("get_time", StringComparison.Ordinal));
        if (!offersTools || !prompt.EndsWith(turn.Rendering.GenerationPrompt, StringComparison.Ordinal))
        {
            turn.Dispose();
            Assert.Fail($"The template should offer both tools (if it shows any) and end with the generation prompt:\n{prompt}");
        }

        return turn;
    }

    private async Task<LlamaModel> Model(string vocabulary)
    {
        if (!_models.TryGetValue(vocabulary, out LlamaModel? model))
        {
            model = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath(vocabulary), new LlamaModelOptions { VocabularyOnly = true });
            _models.Add(vocabulary, model);
        }

        return model;
    }

    private static JsonElement Schema(string property) => JsonSerializer.Deserialize<JsonElement>(
        $$$"""{"type": "object", "properties": {"{{{property}}}": {"type": "string"}}, "required": ["{{{property}}}"]}""");

    private sealed record ExpectedCall(string Name, string Arguments, string? Id = null);

    private sealed record FamilyCase(
        string Name,
        string Template,
        string Vocabulary,
        string Output,
        string Content = "",
        string Reasoning = "",
        ExpectedCall[]? Calls = null,
        string? Ignore = null)
    {
        public ExpectedCall[] Calls { get; } = Calls ?? [];
    }

    // What the parser streamed, delta by delta.
    private sealed class Streamed
    {
        private readonly StringBuilder _content = new();
        private readonly StringBuilder _reasoning = new();

        public string Content => _content.ToString();

        public string Reasoning => _reasoning.ToString();

        // Hands the parser the next generated text (kept in raw when given) and keeps what it streamed.
        public void Add(ChatReplyParser parser, StringBuilder? raw, string text)
        {
            raw?.Append(text);
            ChatReplyDelta delta = parser.Append(text);
            _content.Append(delta.Content);
            _reasoning.Append(delta.Reasoning);
        }
    }
}
