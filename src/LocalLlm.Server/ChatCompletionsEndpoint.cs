using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm.Server;

/// <summary>
/// <c>POST /v1/chat/completions</c>: the conversation goes through <see cref="LlamaChatClient"/> (the model's template,
/// tools, schema and reasoning), and its updates come back as OpenAI's chat completion, or its chunks as server-sent
/// events. Each of <c>n</c> choices is its own sequence, generated side by side.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        using JsonDocument body = await OpenAiHttp.ReadJsonAsync(context.Request, cancellationToken).ConfigureAwait(false);
        ChatCompletionRequest request = ChatCompletionRequestReader.Read(body.RootElement, served.Id);
        LlamaModel model = await served.GetModelAsync(cancellationToken).ConfigureAwait(false);
        var response = new ChatCompletion(served.Id, request, model.Tokenizer);

        // A failure before the first update still becomes a proper status: the headers wait for it.
        bool started = false;
        IAsyncEnumerable<(int, ChatResponseUpdate)> updates = ChoiceStreams.MergeAsync(
            request.Choices, (_, token) => served.Chat.GetStreamingResponseAsync(request.Messages, request.Options.Clone(), token), cancellationToken);
        await foreach ((int choice, ChatResponseUpdate update) in updates.ConfigureAwait(false))
        {
            if (request.Stream && !started)
            {
                await OpenAiHttp.StartEventStreamAsync(context.Response, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < request.Choices; i++)
                {
                    await OpenAiHttp.WriteEventAsync(context.Response, writer => response.WriteRoleChunk(writer, i), cancellationToken).ConfigureAwait(false);
                }
            }

            started = true;
            if (!request.Stream)
            {
                response.Accumulate(choice, update);
                continue;
            }

            foreach (Action<Utf8JsonWriter> chunk in response.Chunks(choice, update))
            {
                await OpenAiHttp.WriteEventAsync(context.Response, chunk, cancellationToken).ConfigureAwait(false);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!request.Stream)
        {
            await OpenAiHttp.WriteJsonAsync(context.Response, response.WriteCompletion, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (request.IncludeUsage)
        {
            await OpenAiHttp.WriteEventAsync(context.Response, response.WriteUsageChunk, cancellationToken).ConfigureAwait(false);
        }

        await OpenAiHttp.WriteDoneAsync(context.Response, cancellationToken).ConfigureAwait(false);
    }

    // Tool-call arguments as OpenAI sends them: compact JSON in a string.
    private static readonly JsonSerializerOptions CompactJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    /// <summary>One response being assembled: the choices' text, reasoning, calls, log-probabilities and usage.</summary>
    internal sealed class ChatCompletion(string modelId, ChatCompletionRequest request, LlamaTokenizer tokenizer)
    {
        private readonly string _id = $"chatcmpl-{Guid.NewGuid():N}";
        private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        private readonly Choice[] _choices = [.. Enumerable.Range(0, request.Choices).Select(_ => new Choice())];

        public void Accumulate(int index, ChatResponseUpdate update)
        {
            Choice choice = _choices[index];
            foreach (AIContent content in update.Contents)
            {
                switch (content)
                {
                    case TextReasoningContent reasoning: choice.Reasoning.Append(reasoning.Text); break;
                    case TextContent text: choice.Text.Append(text.Text); break;
                    case FunctionCallContent call: choice.Calls.Add(call); break;
                    case UsageContent usage: choice.Usage = usage.Details; break;
                }
            }

            if (Tokens(update) is { } tokens)
            {
                choice.Tokens.AddRange(tokens);
            }

            choice.FinishReason = update.FinishReason ?? choice.FinishReason;
        }

        /// <summary>The events one update becomes: text and reasoning deltas, then each tool call, then the finish.</summary>
        public IEnumerable<Action<Utf8JsonWriter>> Chunks(int index, ChatResponseUpdate update)
        {
            Accumulate(index, update);
            string text = string.Concat(update.Contents.OfType<TextContent>().Select(c => c.Text));
            string reasoning = string.Concat(update.Contents.OfType<TextReasoningContent>().Select(c => c.Text));
            IReadOnlyList<LlamaGenerationUpdate>? tokens = Tokens(update);
            if (text.Length > 0 || reasoning.Length > 0 || tokens is not null)
            {
                yield return writer => WriteChunk(writer, index, delta =>
                {
                    if (reasoning.Length > 0)
                    {
                        delta.WriteString("reasoning_content", reasoning);
                    }

                    if (text.Length > 0)
                    {
                        delta.WriteString("content", text);
                    }
                }, tokens, finishReason: null);
            }

            int callIndex = 0;
            foreach (FunctionCallContent call in update.Contents.OfType<FunctionCallContent>())
            {
                int position = callIndex++;
                yield return writer => WriteChunk(writer, index, delta => WriteToolCalls(delta, [(position, call)], withArguments: false), null, null);
                yield return writer => WriteChunk(writer, index, delta =>
                {
                    delta.WriteStartArray("tool_calls");
                    delta.WriteStartObject();
                    delta.WriteNumber("index", position);
                    delta.WriteStartObject("function");
                    delta.WriteString("arguments", Arguments(call));
                    delta.WriteEndObject();
                    delta.WriteEndObject();
                    delta.WriteEndArray();
                }, null, null);
            }

            if (update.FinishReason is { } finish)
            {
                yield return writer => WriteChunk(writer, index, _ => { }, null, FinishReason(finish));
            }
        }

        public void WriteRoleChunk(Utf8JsonWriter writer, int index) => WriteChunk(writer, index, delta =>
        {
            delta.WriteString("role", "assistant");
            delta.WriteString("content", string.Empty);
        }, null, null);

        public void WriteUsageChunk(Utf8JsonWriter writer)
        {
            WriteHeader(writer, "chat.completion.chunk");
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            OpenAiHttp.WriteUsage(writer, TotalUsage());
            writer.WriteEndObject();
        }

        public void WriteCompletion(Utf8JsonWriter writer)
        {
            WriteHeader(writer, "chat.completion");
            writer.WriteStartArray("choices");
            for (int i = 0; i < _choices.Length; i++)
            {
                Choice choice = _choices[i];
                writer.WriteStartObject();
                writer.WriteNumber("index", i);
                writer.WriteStartObject("message");
                writer.WriteString("role", "assistant");
                OpenAiHttp.WriteStringOrNull(writer, "content", choice.Text.Length == 0 && choice.Calls.Count > 0 ? null : choice.Text.ToString());
                if (choice.Reasoning.Length > 0)
                {
                    writer.WriteString("reasoning_content", choice.Reasoning.ToString());
                }

                if (choice.Calls.Count > 0)
                {
                    WriteToolCalls(writer, choice.Calls.Select((call, position) => (position, call)), withArguments: true);
                }

                writer.WriteEndObject();
                WriteLogProbabilities(writer, request.LogProbabilities ? choice.Tokens : null);
                OpenAiHttp.WriteStringOrNull(writer, "finish_reason", choice.FinishReason is { } finish ? FinishReason(finish) : null);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            OpenAiHttp.WriteUsage(writer, TotalUsage());
            writer.WriteEndObject();
        }

        private void WriteChunk(Utf8JsonWriter writer, int index, Action<Utf8JsonWriter> delta, IReadOnlyList<LlamaGenerationUpdate>? tokens, string? finishReason)
        {
            WriteHeader(writer, "chat.completion.chunk");
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", index);
            writer.WriteStartObject("delta");
            delta(writer);
            writer.WriteEndObject();
            WriteLogProbabilities(writer, tokens);
            OpenAiHttp.WriteStringOrNull(writer, "finish_reason", finishReason);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        private void WriteHeader(Utf8JsonWriter writer, string type)
        {
            writer.WriteStartObject();
            writer.WriteString("id", _id);
            writer.WriteString("object", type);
            writer.WriteNumber("created", _created);
            writer.WriteString("model", modelId);
            writer.WriteString("system_fingerprint", ServerInfo.Fingerprint);
        }

        private void WriteLogProbabilities(Utf8JsonWriter writer, IReadOnlyList<LlamaGenerationUpdate>? tokens)
        {
            if (tokens is null)
            {
                writer.WriteNull("logprobs");
                return;
            }

            writer.WriteStartObject("logprobs");
            writer.WriteStartArray("content");
            foreach (LlamaGenerationUpdate token in tokens)
            {
                OpenAiHttp.WriteTokenLogProbability(writer, tokenizer, token);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        private static void WriteToolCalls(Utf8JsonWriter writer, IEnumerable<(int Position, FunctionCallContent Call)> calls, bool withArguments)
        {
            writer.WriteStartArray("tool_calls");
            foreach ((int position, FunctionCallContent call) in calls)
            {
                writer.WriteStartObject();
                writer.WriteNumber("index", position);
                writer.WriteString("id", call.CallId);
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", call.Name);
                writer.WriteString("arguments", withArguments ? Arguments(call) : string.Empty);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        private UsageDetails TotalUsage()
        {
            var total = new UsageDetails { InputTokenCount = 0, OutputTokenCount = 0, CachedInputTokenCount = 0, ReasoningTokenCount = 0 };
            foreach (Choice choice in _choices)
            {
                if (choice.Usage is { } usage)
                {
                    // The prompt is one prompt however many choices share it, as OpenAI counts it.
                    total.InputTokenCount = Math.Max(total.InputTokenCount ?? 0, usage.InputTokenCount ?? 0);
                    total.CachedInputTokenCount = Math.Max(total.CachedInputTokenCount ?? 0, usage.CachedInputTokenCount ?? 0);
                    total.OutputTokenCount += usage.OutputTokenCount ?? 0;
                    total.ReasoningTokenCount += usage.ReasoningTokenCount ?? 0;
                }
            }

            total.TotalTokenCount = total.InputTokenCount + total.OutputTokenCount;
            return total;
        }

        private static IReadOnlyList<LlamaGenerationUpdate>? Tokens(ChatResponseUpdate update) =>
            update.AdditionalProperties?.TryGetValue("logprobs", out object? value) == true ? value as IReadOnlyList<LlamaGenerationUpdate> : null;

        private static string Arguments(FunctionCallContent call) =>
            JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), CompactJson.GetTypeInfo(typeof(IDictionary<string, object?>)));

        // Microsoft.Extensions.AI's finish reasons carry OpenAI's names (stop, length, tool_calls, content_filter).
        private static string FinishReason(ChatFinishReason reason) => reason.Value;

        private sealed class Choice
        {
            public StringBuilder Text { get; } = new();

            public StringBuilder Reasoning { get; } = new();

            public List<FunctionCallContent> Calls { get; } = [];

            public List<LlamaGenerationUpdate> Tokens { get; } = [];

            public UsageDetails? Usage { get; set; }

            public ChatFinishReason? FinishReason { get; set; }
        }
    }
}
