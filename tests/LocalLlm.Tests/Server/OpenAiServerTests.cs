using System.ClientModel;
using System.Net;
using System.Text.Json;
using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using OpenAIChatMessage = OpenAI.Chat.ChatMessage;

namespace LocalLlm.Tests.Server;

/// <summary>
/// The OpenAI-compatible server over real HTTP (Kestrel on loopback), called with the official OpenAI .NET client and
/// Microsoft.Extensions.AI.OpenAI's <see cref="IChatClient"/>, on the generated tiny model (random weights, Llama 3
/// tokenizer) carrying Qwen2.5's real chat template.
/// </summary>
[NonParallelizable]
public sealed class OpenAiServerTests
{
    private string _modelPath = null!;
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _modelPath = GeneratedModels.Ensure(ModelSpec.For(ModelShape.Tiny) with { ChatTemplateFile = "Qwen-Qwen2.5-7B-Instruct.jinja", Variant = "qwentmpl" });
        _server = await TestServer.StartAsync(_modelPath);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private OpenAIClientOptions ClientOptions => new() { Endpoint = new Uri(_server.Address, "/v1") };

    private ChatClient OpenAiChat() => new("test-model", new ApiKeyCredential(TestServer.ApiKey), ClientOptions);

    [Test]
    public async Task OpenAiClient_Chat_IsTheSameGreedyReplyAsTheInProcessChatClient_WithUsage()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(_modelPath);
        using var local = new LlamaChatClient(model, new LlamaChatClientOptions { Context = new LlamaContextOptions { ContextSize = 1024, ThreadCount = 2 } });
        ChatResponse expected = await local.GetResponseAsync([new AIChatMessage(ChatRole.User, "Name three rivers.")], new ChatOptions { Temperature = 0, MaxOutputTokens = 24 });

        ChatCompletion completion = (await OpenAiChat().CompleteChatAsync([new UserChatMessage("Name three rivers.")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 })).Value;

        Assert.Multiple(() =>
        {
            Assert.That(completion.Content[0].Text, Is.EqualTo(expected.Text), "the server answers what the chat client answers in-process");
            Assert.That(completion.Usage.InputTokenCount, Is.EqualTo(expected.Usage!.InputTokenCount));
            Assert.That(completion.Usage.OutputTokenCount, Is.EqualTo(expected.Usage.OutputTokenCount).And.GreaterThan(0));
            Assert.That(completion.Model, Is.EqualTo("test-model"));
            Assert.That(completion.FinishReason, Is.EqualTo(expected.FinishReason == Microsoft.Extensions.AI.ChatFinishReason.Length ? OpenAI.Chat.ChatFinishReason.Length : OpenAI.Chat.ChatFinishReason.Stop));
        });
    }

    [Test]
    public async Task OpenAiClient_Streaming_DeltasAddUpToTheNonStreamingReply_AndTheLastChunkCarriesUsage()
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };
        OpenAIChatMessage[] messages = [new UserChatMessage("Describe a lighthouse.")];
        ChatCompletion whole = (await OpenAiChat().CompleteChatAsync(messages, options)).Value;

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        OpenAI.Chat.ChatFinishReason? finish = null;
        int updates = 0;
        await foreach (StreamingChatCompletionUpdate update in OpenAiChat().CompleteChatStreamingAsync(messages, options))
        {
            updates++;
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }

        Assert.Multiple(() =>
        {
            Assert.That(text.ToString(), Is.EqualTo(whole.Content[0].Text));
            Assert.That(updates, Is.GreaterThan(3), "the reply arrived in pieces");
            Assert.That(usage?.OutputTokenCount, Is.EqualTo(whole.Usage.OutputTokenCount), "stream_options.include_usage: a last chunk with usage");
            Assert.That(usage?.InputTokenDetails?.CachedTokenCount, Is.GreaterThan(0), "the same prompt again is served from the KV cache, and usage says so");
            Assert.That(finish, Is.EqualTo(whole.FinishReason));
        });
    }

    [Test]
    public async Task ExtensionsAiClient_ToolLoop_ThroughUseFunctionInvocation_CallsTheFunctionAndAnswers()
    {
        var invocations = new List<string>();
        AIFunction getTime = AIFunctionFactory.Create(
            ([System.ComponentModel.Description("The time zone")] Zone timezone) =>
            {
                invocations.Add(timezone.ToString());
                return $"It is 12:34 in {timezone}";
            },
            "get_time",
            "Gets the current time in a time zone");
        using IChatClient client = new ChatClientBuilder(OpenAiChat().AsIChatClient()).UseFunctionInvocation().Build();

        ChatResponse response = await client.GetResponseAsync(
            [new AIChatMessage(ChatRole.User, "What time is it in Paris?")],
            new ChatOptions { Tools = [getTime], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false, MaxOutputTokens = 200, Temperature = 0.8f, Seed = 7 });

        FunctionCallContent call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        FunctionResultContent result = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single();
        Assert.Multiple(() =>
        {
            Assert.That(invocations, Has.Count.EqualTo(1), "the server's forced call reached the function through the OpenAI wire format");
            Assert.That(call.Name, Is.EqualTo("get_time"));
            Assert.That(call.Arguments!["timezone"]?.ToString(), Is.EqualTo(invocations[0]), "arguments travelled as a JSON string and parsed back");
            Assert.That(result.CallId, Is.EqualTo(call.CallId));
            Assert.That(response.Messages[^1].Role, Is.EqualTo(ChatRole.Assistant), "the result was sent back and the model answered");
        });
    }

    [Test]
    public async Task ExtensionsAiClient_GetResponseOfT_WithASchema_DeserialisesForSeveralSeeds()
    {
        using IChatClient client = OpenAiChat().AsIChatClient();
        var failures = new List<string>();
        for (int seed = 0; seed < 5; seed++)
        {
            ChatResponse<Forecast> response = await client.GetResponseAsync<Forecast>("What is the weather tomorrow?", new ChatOptions { Seed = seed, Temperature = 1f, MaxOutputTokens = 200 });
            if (!response.TryGetResult(out Forecast? forecast) || forecast is null || !Enum.IsDefined(forecast.Sky))
            {
                failures.Add($"seed {seed}: {response.Text}");
            }
        }

        Assert.That(failures, Is.Empty, "response_format json_schema constrained every reply");
    }

    [Test]
    public async Task Embeddings_Base64FromTheOpenAiClient_EqualFloatsFromPlainJson()
    {
        var embeddings = new EmbeddingClient("test-model", new ApiKeyCredential(TestServer.ApiKey), ClientOptions);
        OpenAIEmbeddingCollection viaClient = (await embeddings.GenerateEmbeddingsAsync(["a red boat", "the green hill"])).Value; // the client asks for base64

        (HttpStatusCode status, JsonElement body) = await _server.PostAsync("/v1/embeddings", """{"input":["a red boat","the green hill"],"encoding_format":"float","model":"test-model"}""");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        float[][] floats = [.. body.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray())];
        Assert.Multiple(() =>
        {
            Assert.That(viaClient, Has.Count.EqualTo(2));
            Assert.That(viaClient[0].ToFloats().ToArray(), Is.EqualTo(floats[0]));
            Assert.That(viaClient[1].ToFloats().ToArray(), Is.EqualTo(floats[1]));
            Assert.That(floats[0], Is.Not.EqualTo(floats[1]));
            Assert.That(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), Is.GreaterThan(0));
        });
    }

    [TestCase("{\"messages\":", null, "not valid JSON")]
    [TestCase("""{"messages":[{"role":"user","content":"hi"}],"temperature":-1}""", "temperature", "between")]
    [TestCase("""{"messages":[{"role":"user","content":"hi"}],"top_p":"high"}""", "top_p", "must be a number")]
    [TestCase("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""", "model", "not served here")]
    [TestCase("""{"messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role", "must be one of")]
    [TestCase("""{"messages":[]}""", "messages", "at least one")]
    [TestCase("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type", "not supported")]
    [TestCase("""{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}""", "tool_choice", "not among")]
    [TestCase("""{"messages":[{"role":"user","content":"hi"}],"min_p":"x"}""", "min_p", "min_p")]
    public async Task BadRequests_Get400_WithTheOpenAiEnvelope_NamingTheField(string json, string? field, string message)
    {
        (HttpStatusCode status, JsonElement body) = await _server.PostAsync("/v1/chat/completions", json);

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body.ToString());
        JsonElement error = body.GetProperty("error");
        Assert.Multiple(() =>
        {
            Assert.That(error.GetProperty("type").GetString(), Is.EqualTo("invalid_request_error"));
            Assert.That(error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString(), Is.EqualTo(field));
            Assert.That(error.GetProperty("message").GetString(), Does.Contain(message));
        });
    }

    [Test]
    public async Task APromptLongerThanTheContext_Gets400_ContextLengthExceeded()
    {
        string longText = string.Join(' ', Enumerable.Repeat("river mountain", 1500));
        (HttpStatusCode status, JsonElement body) = await _server.PostAsync("/v1/completions", JsonSerializer.Serialize(new { prompt = longText, max_tokens = 4 }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body.ToString());
        Assert.That(body.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("context_length_exceeded"));
        Assert.That(body.GetProperty("error").GetProperty("param").GetString(), Is.EqualTo("prompt"));
    }

    [Test]
    public async Task WithoutTheKey_Gets401_ButHealthIsOpen()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.Address };
        (HttpStatusCode status, JsonElement body) = await _server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", anonymous);
        using HttpResponseMessage health = await anonymous.GetAsync("/health");
        using HttpResponseMessage metrics = await anonymous.GetAsync("/metrics");

        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_api_key"));
            Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(metrics.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
        var wrongKey = new ChatClient("test-model", new ApiKeyCredential("wrong"), ClientOptions);
        ClientResultException? refused = Assert.ThrowsAsync<ClientResultException>(() => wrongKey.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.That(refused!.Status, Is.EqualTo(401));
    }

    [Test]
    public async Task SixteenConcurrentStreamingClients_EachGetTheGreedyTextOfASequentialRun()
    {
        // Raw prompts (legacy completions): on a random-weight model, greedy continuations of different prompts differ,
        // so any cross-talk between sequences batched together would change a text.
        // A random-weight model's continuation follows mostly from the last token, so each prompt ends differently.
        string[] endings = ["river", "mountain", "bread", "return", "llama", "token", "ocean", "blue", "seven", "window", "quickly", "under", "song", "iron", "paper", "north"];
        string[] prompts = [.. endings.Select((ending, i) => $"Fact {i} about the sea: {ending}")];
        static string Body(string prompt, bool stream) => JsonSerializer.Serialize(new { prompt, max_tokens = 16, temperature = 0, stream });
        var sequential = new List<string>();
        foreach (string prompt in prompts)
        {
            (_, JsonElement body) = await _server.PostAsync("/v1/completions", Body(prompt, stream: false));
            sequential.Add(body.GetProperty("choices")[0].GetProperty("text").GetString()!);
        }

        string[] concurrent = await Task.WhenAll(prompts.Select(async prompt =>
        {
            using HttpResponseMessage response = await _server.Http.PostAsync("/v1/completions", new StringContent(Body(prompt, stream: true), System.Text.Encoding.UTF8, "application/json"));
            string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            return string.Concat(events.Where(e => e != "data: [DONE]").Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        }));

        Assert.That(concurrent, Is.EqualTo(sequential), "no cross-talk between sequences batched together");
        Assert.That(sequential.Distinct().Count(), Is.GreaterThan(8), "the prompts lead to different continuations, so a mix-up would show");
    }

    [Test]
    public async Task SixteenConcurrentChatStreams_ThroughTheOpenAiClient_EachComplete()
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        ChatCompletion alone = (await OpenAiChat().CompleteChatAsync([new UserChatMessage("Say something.")], options)).Value;

        (string Text, ChatTokenUsage? Usage)[] concurrent = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            var text = new System.Text.StringBuilder();
            ChatTokenUsage? usage = null;
            await foreach (StreamingChatCompletionUpdate update in OpenAiChat().CompleteChatStreamingAsync([new UserChatMessage("Say something.")], options))
            {
                foreach (ChatMessageContentPart part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }

                usage = update.Usage ?? usage;
            }

            return (text.ToString(), usage);
        }));

        Assert.That(concurrent.Select(c => c.Text), Is.All.EqualTo(alone.Content[0].Text));
        Assert.That(concurrent.Select(c => c.Usage?.OutputTokenCount), Is.All.EqualTo(alone.Usage.OutputTokenCount));
    }

    [Test]
    public async Task LegacyCompletions_StreamedAndNot_AgreeAndReportUsage()
    {
        (HttpStatusCode status, JsonElement whole) = await _server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":12,"temperature":0}""");
        using HttpResponseMessage streamed = await _server.Http.PostAsync("/v1/completions", new StringContent("""{"prompt":"Once upon a time","max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""", System.Text.Encoding.UTF8, "application/json"));
        string[] events = [.. (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)];
        string text = string.Concat(events.Where(e => e != "data: [DONE]").Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")).Where(c => c.GetArrayLength() > 0).Select(c => c[0].GetProperty("text").GetString()));
        JsonElement usageChunk = JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement;

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), whole.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(text, Is.EqualTo(whole.GetProperty("choices")[0].GetProperty("text").GetString()));
            Assert.That(whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), Is.EqualTo(12));
            Assert.That(whole.GetProperty("choices")[0].GetProperty("finish_reason").GetString(), Is.EqualTo("length"));
            Assert.That(events[^1], Is.EqualTo("data: [DONE]"));
            Assert.That(usageChunk.GetProperty("choices").GetArrayLength(), Is.Zero);
            Assert.That(usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), Is.EqualTo(12));
        });
    }

    [Test]
    public async Task ChatWithNChoicesAndLogprobs_ReturnsEachChoiceWithItsTokens()
    {
        (HttpStatusCode status, JsonElement body) = await _server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}],"n":3,"max_tokens":6,"temperature":1,"logprobs":true,"top_logprobs":2}""");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        JsonElement[] choices = [.. body.GetProperty("choices").EnumerateArray()];
        Assert.Multiple(() =>
        {
            Assert.That(choices.Select(c => c.GetProperty("index").GetInt32()), Is.EqualTo(new[] { 0, 1, 2 }));
            foreach (JsonElement choice in choices)
            {
                JsonElement[] tokens = [.. choice.GetProperty("logprobs").GetProperty("content").EnumerateArray()];
                Assert.That(tokens, Has.Length.EqualTo(6), "one entry per generated token");
                Assert.That(tokens.All(t => t.GetProperty("logprob").GetDouble() <= 0 && t.GetProperty("top_logprobs").GetArrayLength() == 2), Is.True);
            }

            Assert.That(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), Is.EqualTo(18), "three choices of six tokens");
        });
    }

    [Test]
    public async Task LlamaServerExtras_TokenizeDetokenizeApplyTemplatePropsAndMetrics()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(_modelPath);
        (_, JsonElement tokenized) = await _server.PostAsync("/tokenize", """{"content":"Hello world"}""");
        int[] tokens = [.. tokenized.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];
        (_, JsonElement detokenized) = await _server.PostAsync("/detokenize", JsonSerializer.Serialize(new { tokens }));
        (_, JsonElement template) = await _server.PostAsync("/apply-template", """{"messages":[{"role":"user","content":"Hi there"}]}""");
        JsonElement props = JsonDocument.Parse(await _server.Http.GetStringAsync("/props")).RootElement;
        JsonElement models = JsonDocument.Parse(await _server.Http.GetStringAsync("/v1/models")).RootElement;
        await _server.PostAsync("/v1/completions", """{"prompt":"One","max_tokens":2}""");
        string metrics = await _server.Http.GetStringAsync("/metrics");

        Assert.Multiple(() =>
        {
            Assert.That(tokens, Is.EqualTo(model.Tokenizer.Tokenize("Hello world", addSpecial: false, parseSpecial: true)));
            Assert.That(detokenized.GetProperty("content").GetString(), Is.EqualTo("Hello world"));
            Assert.That(template.GetProperty("prompt").GetString(), Does.Contain("<|im_start|>user\nHi there<|im_end|>").And.EndWith("<|im_start|>assistant\n"));
            Assert.That(props.GetProperty("total_slots").GetInt32(), Is.EqualTo(4));
            Assert.That(props.GetProperty("default_generation_settings").GetProperty("n_ctx").GetInt32(), Is.EqualTo(1024));
            Assert.That(models.GetProperty("data")[0].GetProperty("id").GetString(), Is.EqualTo("test-model"));
            Assert.That(metrics, Does.Contain("localllm_requests").And.Contain("localllm_generated_tokens").And.Contain("localllm_time_to_first_token").And.Contain("localllm_kv_cells_used").And.Contain("localllm_queue_depth"));
        });
    }

    /// <summary>
    /// Fields whose every value is short, so a random-weight model's reply always ends within the token limit (the
    /// OpenAI client drops a schema's numeric ranges, so an integer could run on for thousands of digits).
    /// </summary>
    public sealed record Forecast(bool Windy, Sky Sky, Sky Tomorrow);

    public enum Sky
    {
        Clear,
        Cloudy,
        Snow,
    }

    public enum Zone
    {
        Utc,
        Cet,
        Pst,
    }
}
