using System.Text.Json;

namespace LocalLlm.Tests.Chat;

/// <summary>The stateful chat session carries tool calls and their results in its history, on a generated model with Qwen2.5's template.</summary>
public sealed class ChatSessionToolTests() : TemplatedModelFixture("Qwen-Qwen2.5-7B-Instruct.jinja", "qwentmpl")
{
    [Test]
    public async Task ARequiredCall_EndsTheReplyAsToolCalls_AndItsResultJoinsTheHistoryForTheNextTurn()
    {
        var options = new LlamaChatSessionOptions { Context = new LlamaContextOptions { ContextSize = 2048, ThreadCount = 2 }, ToolChoice = LlamaToolChoice.Required, AllowMultipleToolCalls = false };
        options.Tools.Add(new LlamaChatTool("roll_die", "Rolls a die", JsonDocument.Parse("""{"type":"object","properties":{"sides":{"type":"integer","minimum":2,"maximum":20}},"required":["sides"]}""").RootElement));
        using var chat = new LlamaChatSession(Model, options);
        var generation = new LlamaGenerationOptions { MaxTokens = 120, Sampling = LlamaSampling.Create().Temperature(0.8f).Seed(4).Build() };

        var text = new System.Text.StringBuilder();
        LlamaChatUpdate? last = null;
        await foreach (LlamaChatUpdate update in chat.StreamAsync(LlamaChatMessage.User("Roll a die."), generation))
        {
            text.Append(update.Text);
            last = update;
        }

        LlamaToolCall call = last!.ToolCalls.Single();
        int sides = JsonDocument.Parse(call.Arguments).RootElement.GetProperty("sides").GetInt32();
        LlamaChatMessage assistant = chat.History[^1];
        Assert.Multiple(() =>
        {
            Assert.That(call.Name, Is.EqualTo("roll_die"));
            Assert.That(sides, Is.InRange(2, 20), "the grammar kept the argument inside the schema");
            Assert.That(text.ToString(), Does.Not.Contain("<tool_call>"));
            Assert.That(assistant.Role, Is.EqualTo("assistant"));
            Assert.That(assistant.ToolCalls, Is.EqualTo(new[] { call }));
        });

        options.ToolChoice = LlamaToolChoice.None;
        int before = chat.History.Count;
        await foreach (LlamaChatUpdate update in chat.StreamAsync(LlamaChatMessage.Tool(call.Id, "4", call.Name), new LlamaGenerationOptions { MaxTokens = 4 }))
        {
            Assert.That(update.ToolCalls, Is.Empty);
        }

        Assert.That(chat.History.Skip(before).Select(m => m.Role), Is.EqualTo(new[] { "tool", "assistant" }));
        Assert.That(chat.History[before].ToolCallId, Is.EqualTo(call.Id));
        Assert.That(chat.Template.Apply(chat.History.Take(before + 1).ToList()), Does.Contain("<tool_response>\n4\n</tool_response>"), "the result renders as Qwen2.5 shows tool results");
    }
}
