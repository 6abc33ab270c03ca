using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm.Server;

/// <summary>
/// <c>POST /v1/completions</c>, OpenAI's legacy text completion: the prompt as written (no template), continued on the
/// chat client's own context, so completions and chats share its sequences, batching and queue.
/// </summary>
internal static class CompletionsEndpoint
{
    /// <summary>OpenAI's default length for a legacy completion.</summary>
    private const int DefaultMaxTokens = 16;

    public static async Task HandleAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        using JsonDocument body = await OpenAiHttp.ReadJsonAsync(context.Request, cancellationToken).ConfigureAwait(false);
        var request = new RequestObject(body.RootElement, string.Empty);
        ChatCompletionRequestReader.CheckModel(request, served.Id);
        LlamaModel model = await served.GetModelAsync(cancellationToken).ConfigureAwait(false);
        List<(int[] Tokens, string Text)> prompts = [.. TextOrTokens.Read(request, "prompt", model.Tokenizer, 16)
            .Select(p => (p.Tokens ?? model.Tokenizer.Tokenize(p.Text, addSpecial: true, parseSpecial: true), p.Text))];
        if (request.TryGet("suffix", out _))
        {
            throw OpenAiRequestException.BadRequest("suffix", "'suffix' (fill-in-the-middle) is not supported by this server.");
        }

        var options = new ChatOptions();
        ChatCompletionRequestReader.ReadSampling(request, options);
        int logprobs = (int)(request.Integer("logprobs", 0, 20) ?? -1);
        LlamaGenerationOptions generation = ChatOptionsMapper.Map(options, DefaultMaxTokens);
        generation.LogProbabilities = logprobs >= 0;
        generation.TopLogProbabilities = Math.Max(logprobs, 0);
        int n = (int)(request.Integer("n", 1, 16) ?? 1);
        bool echo = request.Boolean("echo") ?? false;
        bool stream = request.Boolean("stream") ?? false;
        bool includeUsage = request.Object("stream_options")?.Boolean("include_usage") ?? false;

        var completion = new TextCompletion(served.Id, prompts.Count * n, n, model.Tokenizer, logprobs >= 0);
        bool started = false;
        IAsyncEnumerable<(int, LlamaGenerationUpdate)> updates = ChoiceStreams.MergeAsync(
            prompts.Count * n, (choice, token) => StreamAsync(served.Chat, prompts[choice / n].Tokens, generation, token), cancellationToken);
        await foreach ((int choice, LlamaGenerationUpdate update) in updates.ConfigureAwait(false))
        {
            if (stream && !started && echo)
            {
                await OpenAiHttp.StartEventStreamAsync(context.Response, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < prompts.Count * n; i++)
                {
                    string echoed = prompts[i / n].Text;
                    int index = i;
                    await OpenAiHttp.WriteEventAsync(context.Response, writer => completion.WriteChunk(writer, index, echoed, null, null), cancellationToken).ConfigureAwait(false);
                }
            }
            else if (stream && !started)
            {
                await OpenAiHttp.StartEventStreamAsync(context.Response, cancellationToken).ConfigureAwait(false);
            }

            started = true;
            completion.Accumulate(choice, update);
            if (stream && (update.Text.Length > 0 || update.FinishReason is not null || logprobs >= 0))
            {
                await OpenAiHttp.WriteEventAsync(context.Response, writer => completion.WriteChunk(writer, choice, update.Text, update.TokenId is null ? null : update, update.FinishReason), cancellationToken).ConfigureAwait(false);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!stream)
        {
            await OpenAiHttp.WriteJsonAsync(context.Response, writer => completion.WriteCompletion(writer, echo ? i => prompts[i / n].Text : null), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (includeUsage)
        {
            await OpenAiHttp.WriteEventAsync(context.Response, completion.WriteUsageChunk, cancellationToken).ConfigureAwait(false);
        }

        await OpenAiHttp.WriteDoneAsync(context.Response, cancellationToken).ConfigureAwait(false);
    }

    // A prompt too long for a sequence is the prompt's fault, and the 400 says so.
    private static async IAsyncEnumerable<LlamaGenerationUpdate> StreamAsync(LlamaChatClient chat, int[] prompt, LlamaGenerationOptions generation, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<LlamaGenerationUpdate> updates = chat.StreamCompletionAsync(prompt, generation, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (updates.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (LlamaContextOverflowException ex)
                {
                    throw OpenAiRequestException.BadRequest("prompt", ex.Message, "context_length_exceeded");
                }

                yield return updates.Current;
            }
        }
    }

    /// <summary>One legacy completion being assembled.</summary>
    private sealed class TextCompletion(string modelId, int choices, int choicesPerPrompt, LlamaTokenizer tokenizer, bool logprobs)
    {
        private readonly string _id = $"cmpl-{Guid.NewGuid():N}";
        private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        private readonly StringBuilder[] _texts = [.. Enumerable.Range(0, choices).Select(_ => new StringBuilder())];
        private readonly List<LlamaGenerationUpdate>[] _tokens = [.. Enumerable.Range(0, choices).Select(_ => new List<LlamaGenerationUpdate>())];
        private readonly LlamaFinishReason?[] _finishes = new LlamaFinishReason?[choices];
        private readonly LlamaUsage?[] _usages = new LlamaUsage?[choices];

        public void Accumulate(int choice, LlamaGenerationUpdate update)
        {
            _texts[choice].Append(update.Text);
            if (update.TokenId is not null)
            {
                _tokens[choice].Add(update);
            }

            _finishes[choice] = update.FinishReason ?? _finishes[choice];
            _usages[choice] = update.Usage ?? _usages[choice];
        }

        public void WriteChunk(Utf8JsonWriter writer, int choice, string text, LlamaGenerationUpdate? token, LlamaFinishReason? finish)
        {
            WriteHeader(writer);
            writer.WriteStartArray("choices");
            WriteChoice(writer, choice, text, token is null ? [] : [token], finish);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        public void WriteUsageChunk(Utf8JsonWriter writer)
        {
            WriteHeader(writer);
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            OpenAiHttp.WriteUsage(writer, TotalUsage());
            writer.WriteEndObject();
        }

        public void WriteCompletion(Utf8JsonWriter writer, Func<int, string>? echo)
        {
            WriteHeader(writer);
            writer.WriteStartArray("choices");
            for (int i = 0; i < choices; i++)
            {
                WriteChoice(writer, i, echo?.Invoke(i) + _texts[i].ToString(), _tokens[i], _finishes[i]);
            }

            writer.WriteEndArray();
            OpenAiHttp.WriteUsage(writer, TotalUsage());
            writer.WriteEndObject();
        }

        private void WriteChoice(Utf8JsonWriter writer, int choice, string text, IReadOnlyList<LlamaGenerationUpdate> tokens, LlamaFinishReason? finish)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", choice);
            writer.WriteString("text", text);
            if (logprobs)
            {
                // The legacy shape: parallel arrays of tokens, their log-probabilities and their alternatives.
                writer.WriteStartObject("logprobs");
                writer.WriteStartArray("tokens");
                foreach (LlamaGenerationUpdate token in tokens)
                {
                    writer.WriteStringValue(Encoding.UTF8.GetString(tokenizer.GetTokenBytes(token.TokenId!.Value)));
                }

                writer.WriteEndArray();
                writer.WriteStartArray("token_logprobs");
                foreach (LlamaGenerationUpdate token in tokens)
                {
                    writer.WriteNumberValue(token.LogProbability ?? 0);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("top_logprobs");
                foreach (LlamaGenerationUpdate token in tokens)
                {
                    writer.WriteStartObject();
                    foreach (LlamaTokenProbability candidate in token.TopLogProbabilities ?? [])
                    {
                        writer.WriteNumber(Encoding.UTF8.GetString(tokenizer.GetTokenBytes(candidate.TokenId)), candidate.LogProbability);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("logprobs");
            }

            OpenAiHttp.WriteStringOrNull(writer, "finish_reason", finish switch { null => null, LlamaFinishReason.Length or LlamaFinishReason.ContextFull => "length", _ => "stop" });
            writer.WriteEndObject();
        }

        private void WriteHeader(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("id", _id);
            writer.WriteString("object", "text_completion");
            writer.WriteNumber("created", _created);
            writer.WriteString("model", modelId);
            writer.WriteString("system_fingerprint", ServerInfo.Fingerprint);
        }

        private UsageDetails TotalUsage() => new()
        {
            // Each prompt counts once however many choices continue it, as OpenAI counts it.
            InputTokenCount = _usages.Where((_, i) => i % choicesPerPrompt == 0).Sum(u => u?.PromptTokens ?? 0),
            OutputTokenCount = _usages.Sum(u => u?.GeneratedTokens ?? 0),
            CachedInputTokenCount = _usages.Where((_, i) => i % choicesPerPrompt == 0).Sum(u => u?.CachedPromptTokens ?? 0),
        };
    }
}
