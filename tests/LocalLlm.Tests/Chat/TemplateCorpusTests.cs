using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NUnit.Framework.Constraints;

namespace LocalLlm.Tests.Chat;

/// <summary>
/// Every Jinja template shipped with the pinned llama.cpp source (models/templates) renders a fixed set of
/// conversations through our chat layer: plain turns, tools, tool calls and results, past reasoning and Unicode. The
/// expected facts come from the inputs written here, never from the renderer's output.
/// </summary>
public sealed class TemplateCorpusTests
{
    // llama.cpp's jinja prefixes the message of a template's raise_exception with this.
    private const string RaisedPrefix = "Jinja Exception: ";

    private const string PastAnswerFact = "the assistant's past answer";

    private const string ToolResultFact = "the tool's result";

    // Nine alphanumerics: the Mistral templates refuse any other tool call id.
    private const string CallId = "call12345";

    private const string ToolResult = """{"temperature_c":18,"sky":"overcast"}""";

    private const string PastReasoning = "17 is odd and has no divisor between 2 and 4, so 17 is prime.";

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The time every rendering is given, so that a run does not depend on the day it runs.
    private static readonly DateTimeOffset FixedNow = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);

    private static readonly LlamaChatTool[] Tools =
    [
        new("get_weather", "Gets the current weather for a city.", Schema("""
            {"type": "object",
             "properties": {"location": {"type": "string", "description": "The city, e.g. Lisbon"},
                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
             "required": ["location"]}
            """)),
        new("get_local_time", "Gets the local time in a time zone.", Schema("""
            {"type": "object",
             "properties": {"timezone": {"type": "string", "description": "An IANA time zone, e.g. Asia/Tokyo"}},
             "required": ["timezone"]}
            """)),
    ];

    private static readonly Conversation[] Conversations =
    [
        new("system+user",
        [
            LlamaChatMessage.System("You are a terse assistant who answers in one sentence."),
            LlamaChatMessage.User("What is the capital of France?"),
        ]),
        new("multi-turn",
        [
            LlamaChatMessage.User("Name a prime number."),
            LlamaChatMessage.Assistant("Seven is a prime number."),
            LlamaChatMessage.User("Name another one, please."),
        ]),
        new("tools-auto", [LlamaChatMessage.User("What is the weather in Paris, and what time is it in Tokyo?")], Tools, LlamaToolChoice.Auto),
        new("tools-required", [LlamaChatMessage.User("What is the weather in Paris, and what time is it in Tokyo?")], Tools, LlamaToolChoice.Required),
        new("tool-call+result",
        [
            LlamaChatMessage.User("What is the weather in the French capital right now?"),
            LlamaChatMessage.Assistant(string.Empty) with { ToolCalls = [new LlamaToolCall(CallId, "get_weather", """{"location":"Paris","unit":"celsius"}""")] },
            LlamaChatMessage.Tool(CallId, ToolResult, "get_weather"),
        ], Tools, LlamaToolChoice.Auto),
        new("reasoning-history",
        [
            LlamaChatMessage.User("Is 17 a prime number?"),
            LlamaChatMessage.Assistant("Yes, 17 is prime.") with { ReasoningContent = PastReasoning },
            LlamaChatMessage.User("And what about 21?"),
        ]),
        new("unicode",
        [
            LlamaChatMessage.User("日本語で説明して 🦙🎉 مرحبا بالعالم — cafe\u0301 n\u0303 Zoe\u0308 👨‍👩‍👧 🇯🇵"),
            LlamaChatMessage.Assistant("好的！🐪 שלום עולם — a\u0308\u0301 👍🏽 한국어"),
            LlamaChatMessage.User("谢谢 🙏 ¿Y en español? क्षि e\u0301\u0323 ‏عربى‏"),
        ]),
    ];

    // Gaps upstream of us (in llama.cpp or the template), by template, conversation and the fact that goes missing, with
    // why. The test still renders these and checks everything else; a gap that shows is listed in the report.
    private static readonly Dictionary<(string Template, string Conversation, string Fact), string> KnownGaps = new()
    {
        [("unsloth-mistral-Devstral-Small-2507.jinja", "reasoning-history", PastAnswerFact)] =
            "llama.cpp routes this template to its Ministral 3 handler (common/parsers/ministral3.cpp), which turns an assistant "
            + "message with reasoning into content blocks [thinking, text]; the template prints content[0]['text'], which the "
            + "thinking block lacks, so the past answer renders empty",
        [("microsoft-Phi-3.5-mini-instruct.jinja", "tool-call+result", ToolResultFact)] =
            "the template renders only system, user and assistant messages and skips a tool message without a word",
        [("llama-cpp-rwkv-world.jinja", "tool-call+result", ToolResultFact)] =
            "the template renders only system, user and assistant messages and skips a tool message without a word",
    };

    private readonly List<string> _raised = [];
    private readonly List<string> _gapsSeen = [];
    private readonly List<string> _rendersPastReasoning = [];
    private readonly List<string> _dropsPastReasoning = [];
    private readonly List<string> _requiredWithoutGrammar = [];
    private readonly List<string> _renderedEverything = [];
    private LlamaModel? _vocabulary;

    public static IEnumerable<TestCaseData> Templates() =>
        TemplateFiles().Select(path => new TestCaseData(Path.GetFileName(path)).SetArgDisplayNames(Path.GetFileNameWithoutExtension(path)));

    // Gives the templates llama-bpe's bos_token and eos_token, as a model with that vocabulary would.
    [OneTimeSetUp]
    public async Task LoadVocabulary() =>
        _vocabulary = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { VocabularyOnly = true });

    [OneTimeTearDown]
    public void Report()
    {
        _vocabulary?.Dispose();
        WriteList($"{_renderedEverything.Count} templates rendered every conversation without raising.", []);
        WriteList($"{_raised.Count} renderings raised in the template's own words:", _raised);
        WriteList($"{_gapsSeen.Count} known upstream gaps showed:", _gapsSeen);
        WriteList($"{_requiredWithoutGrammar.Count} templates get no grammar for a required tool call (nothing forces the call):", _requiredWithoutGrammar);
        WriteList($"{_rendersPastReasoning.Count} templates render past reasoning:", _rendersPastReasoning);
        WriteList($"{_dropsPastReasoning.Count} templates drop past reasoning:", _dropsPastReasoning);
    }

    [Test]
    public void TheCorpus_HoldsAtLeastSeventyTemplates() => Assert.That(TemplateFiles().Count(), Is.GreaterThanOrEqualTo(70));

    [TestCaseSource(nameof(Templates))]
    public void EveryConversation_RendersTheInputsIntoThePrompt(string file)
    {
        string source = File.ReadAllText(Path.Combine(TemplateDirectory, file));
        LlamaChatTemplate template = LlamaChatTemplate.FromText(source, _vocabulary);
        string[] ownMessages = RaisedMessages(source);
        int raised = 0;
        TestContext.Out.WriteLine($"template {file}: supports tools {template.SupportsTools}, tool calls {template.SupportsToolCalls}, system role {template.SupportsSystemRole}");

        foreach (Conversation conversation in Conversations)
        {
            ChatTemplateRendering rendering;
            try
            {
                rendering = template.Render(conversation.Request());
            }
            catch (LlamaChatTemplateException ex)
            {
                // Only a refusal in the template's own words (raise_exception) passes; any other failure is ours or llama.cpp's.
                Assert.That(IsTemplatesOwnRaise(ex.Message, ownMessages), Is.True, $"{file} failed for {conversation.Name}: {ex.Message}");
                string line = $"template {file} raised for conversation {conversation.Name}: {ex.Message[(ex.Message.IndexOf(RaisedPrefix, StringComparison.Ordinal) + RaisedPrefix.Length)..]}";
                TestContext.Out.WriteLine(line);
                _raised.Add(line);
                raised++;
                continue;
            }

            string prompt = rendering.Prompt;
            string what = $"{file}, conversation {conversation.Name}:\n{prompt}";

            // A fact the inputs put in the prompt: missing, it fails the test unless it is a known gap upstream.
            void Expect(bool shown, string fact)
            {
                if (!shown && KnownGaps.TryGetValue((file, conversation.Name, fact), out string? why))
                {
                    _gapsSeen.Add($"template {file}, conversation {conversation.Name}: {fact} is missing; {why}");
                    return;
                }

                Assert.That(shown, Is.True, $"{fact}, in {what}");
            }

            TestContext.Out.WriteLine($"  {conversation.Name}: format {rendering.FormatName}, grammar {rendering.Grammar.Length} chars (lazy {rendering.GrammarLazy}), generation prompt \"{JsonEscaped(rendering.GenerationPrompt)}\"");
            Assert.Multiple(() =>
            {
                foreach (LlamaChatMessage message in conversation.Messages.Where(m => m.Role is "user" or "system"))
                {
                    Assert.That(prompt, ContainsOrdinal(message.Content), $"the {message.Role} text, in {what}");
                }

                foreach (LlamaChatMessage message in conversation.Messages.Where(m => m.Role == "assistant" && m.Content.Length > 0))
                {
                    Expect(prompt.Contains(message.Content, StringComparison.Ordinal), PastAnswerFact);
                }

                Assert.That(prompt.EndsWith(rendering.GenerationPrompt, StringComparison.Ordinal), Is.True, $"the generation prompt \"{rendering.GenerationPrompt}\" ends {what}");

                if (conversation.Name is "tools-auto" or "tools-required")
                {
                    if (template.SupportsTools)
                    {
                        foreach (LlamaChatTool tool in conversation.Tools)
                        {
                            Assert.That(prompt, ContainsOrdinal(tool.Name), $"the offered tool, in {what}");
                        }
                    }

                    if (conversation.ToolChoice == LlamaToolChoice.Required)
                    {
                        if (template.SupportsToolCalls)
                        {
                            Assert.That(rendering.Grammar, Is.Not.Empty, $"a required tool call needs a grammar: {what}");
                        }
                        else if (rendering.Grammar.Length == 0)
                        {
                            _requiredWithoutGrammar.Add(file);
                        }

                        if (rendering.Grammar.Length > 0)
                        {
                            Assert.That(rendering.GrammarLazy, Is.False, $"a required tool call constrains the reply from its start: {what}");
                            foreach (LlamaChatTool tool in conversation.Tools)
                            {
                                Assert.That(rendering.Grammar, ContainsOrdinal(tool.Name), $"the grammar names every tool: {what}");
                            }
                        }
                    }
                }

                if (conversation.Name == "tool-call+result")
                {
                    Expect(ShowsToolResult(prompt), ToolResultFact);
                    if (template.SupportsToolCalls)
                    {
                        // "Paris" is in the call's arguments only: not in the question, the tools or the result.
                        Assert.That(prompt, ContainsOrdinal("get_weather") & ContainsOrdinal("Paris"), $"the assistant's tool call, in {what}");
                    }
                }
            });

            if (conversation.Name == "reasoning-history")
            {
                bool shown = prompt.Contains(PastReasoning, StringComparison.Ordinal);
                (shown ? _rendersPastReasoning : _dropsPastReasoning).Add(file);
                TestContext.Out.WriteLine($"  template {file} {(shown ? "renders" : "drops")} past reasoning");
            }
        }

        if (raised == 0)
        {
            _renderedEverything.Add(file);
        }
    }

    [Test]
    public void RenderingTheSameConversationTwice_GivesByteIdenticalPrompts()
    {
        Conversation conversation = Conversations.Single(c => c.Name == "tool-call+result");
        foreach (string path in TemplateFiles())
        {
            string source = File.ReadAllText(path);
            string first = RenderOrError(LlamaChatTemplate.FromText(source, _vocabulary), conversation);
            string second = RenderOrError(LlamaChatTemplate.FromText(source, _vocabulary), conversation);

            Assert.That(Encoding.UTF8.GetBytes(second), Is.EqualTo(Encoding.UTF8.GetBytes(first)), Path.GetFileName(path));
        }
    }

    // Templates that read the date from the date_string or datetime variable, and where they print it.
    [TestCase("meta-llama-Llama-3.1-8B-Instruct.jinja", "Today Date: {0:dd MMM yyyy}\n")]
    [TestCase("meta-llama-Llama-3.2-3B-Instruct.jinja", "Today Date: {0:dd MMM yyyy}\n")]
    [TestCase("fireworks-ai-llama-3-firefunction-v2.jinja", "Today is {0:MMM dd yyyy}.")]
    public void TheRequestsNow_IsTheDateTheTemplateShows(string file, string dateLine)
    {
        LlamaChatTemplate template = LlamaChatTemplate.FromText(File.ReadAllText(Path.Combine(TemplateDirectory, file)), _vocabulary);
        Conversation conversation = Conversations.Single(c => c.Name == "tools-auto");

        string prompt = template.Render(conversation.Request()).Prompt;

        Assert.That(prompt, ContainsOrdinal(string.Format(CultureInfo.InvariantCulture, dateLine, FixedNow)));
    }

    private static SubstringConstraint ContainsOrdinal(string text) => new SubstringConstraint(text).Using(StringComparison.Ordinal);

    // To the fixture's output and, since a test runner shows no fixture output on its console, to the progress stream too.
    private static void WriteList(string title, List<string> lines)
    {
        foreach (string line in lines.Select(l => "  " + l).Prepend(title))
        {
            TestContext.Out.WriteLine(line);
            TestContext.Progress.WriteLine(line);
        }
    }

    // Verbatim, as a JSON string (templates that tojson the content), or re-rendered from the parsed object (Gemma 4's
    // own notation): then every key and value of the result is there.
    private static bool ShowsToolResult(string prompt)
    {
        if (prompt.Contains(ToolResult, StringComparison.Ordinal) || prompt.Contains(JsonEscaped(ToolResult), StringComparison.Ordinal))
        {
            return true;
        }

        using JsonDocument result = JsonDocument.Parse(ToolResult);
        return result.RootElement.EnumerateObject().All(p => prompt.Contains(p.Name, StringComparison.Ordinal) && prompt.Contains(p.Value.ToString(), StringComparison.Ordinal));
    }

    private static string TemplateDirectory => Path.Combine(TestEnvironment.LlamaCppSourceDirectory, "models", "templates");

    private static IEnumerable<string> TemplateFiles() => Directory.EnumerateFiles(TemplateDirectory, "*.jinja").Order(StringComparer.Ordinal);

    private static JsonElement Schema(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string JsonEscaped(string text) => JsonSerializer.Serialize(text, RelaxedJson)[1..^1];

    private static string RenderOrError(LlamaChatTemplate template, Conversation conversation)
    {
        try
        {
            return template.Render(conversation.Request()).Prompt;
        }
        catch (LlamaChatTemplateException ex)
        {
            return ex.Message;
        }
    }

    // The template raised (RaisedPrefix) with a message written in its source.
    private static bool IsTemplatesOwnRaise(string message, string[] ownMessages)
    {
        int at = message.IndexOf(RaisedPrefix, StringComparison.Ordinal);
        return at >= 0 && ownMessages.Any(own => message.AsSpan(at + RaisedPrefix.Length).Contains(own, StringComparison.Ordinal));
    }

    // The string literals inside the template's raise_exception(...) calls, e.g. 'Invalid role ' from
    // raise_exception('Invalid role ' + message['role']); pieces of three characters or fewer say too little to count.
    private static string[] RaisedMessages(string source)
    {
        const string call = "raise_exception(";
        var literals = new List<string>();
        for (int at = source.IndexOf(call, StringComparison.Ordinal); at >= 0; at = source.IndexOf(call, at + call.Length, StringComparison.Ordinal))
        {
            int depth = 1;
            for (int i = at + call.Length; i < source.Length && depth > 0; i++)
            {
                char c = source[i];
                if (c is '\'' or '"')
                {
                    var literal = new StringBuilder();
                    for (i++; i < source.Length && source[i] != c; i++)
                    {
                        if (source[i] == '\\' && i + 1 < source.Length)
                        {
                            i++;
                        }

                        literal.Append(source[i]);
                    }

                    literals.Add(literal.ToString().Trim());
                }
                else if (c == '(')
                {
                    depth++;
                }
                else if (c == ')')
                {
                    depth--;
                }
            }
        }

        return [.. literals.Where(l => l.Length > 3).Distinct(StringComparer.Ordinal)];
    }

    private sealed record Conversation(string Name, LlamaChatMessage[] Messages, LlamaChatTool[]? OfferedTools = null, LlamaToolChoice ToolChoice = LlamaToolChoice.Auto)
    {
        public LlamaChatTool[] Tools => OfferedTools ?? [];

        public ChatTemplateRequest Request() => new()
        {
            Messages = Messages,
            Tools = Tools,
            ToolChoice = ToolChoice,
            AddGenerationPrompt = true,
            Now = FixedNow,
        };

        public override string ToString() => Name;
    }
}
