using System.Text.Json;
using LocalLlm.Tests.Inference;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Chat;

/// <summary>JSON replies constrained by a schema's grammar, on the generated tiny model (random weights).</summary>
public sealed class StructuredOutputTests : TinyModelFixture
{
    /// <summary>How a random-weight model's forecast is shaped: bounded fields, so every reply ends within the token limit.</summary>
    public enum Sky
    {
        Clear,
        Cloudy,
        Snow,
    }

    [Test]
    public async Task GetResponseAsyncOfT_DeserialisesIntoT_For20Seeds()
    {
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 } });
        var failures = new List<string>();

        for (int seed = 0; seed < 20; seed++)
        {
            var options = new ChatOptions { Seed = seed, Temperature = 1f, MaxOutputTokens = 200 };
            ChatResponse<Forecast> response = await client.GetResponseAsync<Forecast>("What is the weather tomorrow?", options);
            if (!response.TryGetResult(out Forecast? forecast) || forecast is null || !Enum.IsDefined(forecast.Sky) || forecast.Temperature is < -60 or > 60)
            {
                failures.Add($"seed {seed}: {response.Text}");
            }
        }

        Assert.That(failures, Is.Empty, "every reply matched the schema and deserialised");
    }

    [Test]
    public async Task TheSchema_IsShownToTheModel_InTheSystemMessage()
    {
        using var logs = new RecordingLoggerProvider();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 } }, loggerFactory);
        JsonElement schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"boolean"}},"required":["answer"]}""").RootElement;

        ChatResponse response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be terse."), new ChatMessage(ChatRole.User, "Is it raining?")],
            new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "rain"), MaxOutputTokens = 40, Seed = 1 });

        string prompt = logs.Records.Single(r => r.Message.StartsWith("Rendered prompt", StringComparison.Ordinal)).Message;
        using JsonDocument reply = JsonDocument.Parse(response.Text);
        Assert.That(prompt, Does.Contain("Be terse.\n\nRespond only with a JSON value (rain) that matches this JSON schema:\n" + schema.GetRawText()));
        Assert.That(reply.RootElement.GetProperty("answer").ValueKind, Is.AnyOf(JsonValueKind.True, JsonValueKind.False));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task ResponseFormatJson_ConstrainsTheReplyToAJsonObject(int seed)
    {
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 } });

        ChatResponse response = await client.GetResponseAsync("Describe a llama.", new ChatOptions { ResponseFormat = ChatResponseFormat.Json, MaxOutputTokens = 60, Seed = seed, Temperature = 0.7f });

        // A random-weight model may not close its strings within the limit: what it wrote must still be JSON so far.
        string text = response.Text.Trim();
        Assert.That(text, Does.StartWith("{"));
        Assert.That(() => ReadAll(text, complete: response.FinishReason == ChatFinishReason.Stop), Throws.Nothing, "the reply is a JSON object, or the start of one when the limit cut it");
    }

    private static void ReadAll(string json, bool complete)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), isFinalBlock: complete, state: default);
        while (reader.Read())
        {
        }
    }

    [Test]
    public void ASchemaTheConverterCannotHandle_FailsNamingTheUnsupportedPart()
    {
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 512, ThreadCount = 2 } });
        JsonElement schema = JsonDocument.Parse("""{"type":"object","properties":{"where":{"$ref":"https://example.com/place.json"}}}""").RootElement;

        var ex = Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync("Where?", new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema) }));

        Assert.That(ex!.ParamName, Is.EqualTo("options"));
        Assert.That(ex.Message, Does.Contain("#/properties/where").And.Contain("https://example.com/place.json"));
    }

    [Test]
    public void AGrammarOfYourOwn_CannotBeCombinedWithAJsonResponseFormat()
    {
        using var client = new LlamaChatClient(Model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 512, ThreadCount = 2 } });
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, AdditionalProperties = new() { ["grammar"] = "root ::= \"yes\"" } };

        var ex = Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync("Well?", options));

        Assert.That(ex!.Message, Does.Contain("grammar"));
    }

    /// <summary>A forecast a random-weight model can finish: a boolean, an integer in a range and an enum.</summary>
    public sealed record Forecast(bool Windy, [property: System.ComponentModel.DataAnnotations.Range(-60, 60)] int Temperature, Sky Sky);
}
