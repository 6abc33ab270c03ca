using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LocalLlm;

/// <summary>
/// An <see cref="IChatClient"/> over a local GGUF model: renders the conversation with the model's own Jinja chat
/// template as llama-server does (tools, tool calls and results, reasoning, a JSON schema for the reply), streams the
/// reply with the answer, the reasoning and the tool calls apart, and reports the finish reason and token usage.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe: concurrent requests queue for the client's one inference context (a caller can cancel while it
/// waits) and each request reuses the KV cache of whatever prefix it shares with the previous one, so the next turn
/// of a conversation evaluates only its new messages.
/// </para>
/// <para>
/// <see cref="ChatOptions"/> maps onto the template and the sampler chain: <c>Tools</c> (function declarations and
/// their JSON schemas), <c>ToolMode</c> (auto, none, require any, require one: the reply-format grammar then forces a
/// well-formed call), <c>AllowMultipleToolCalls</c>, <c>ResponseFormat</c> (a JSON schema constrains the reply through
/// its grammar and is shown to the model), <c>Reasoning</c> (effort None turns the template's thinking off; low and
/// medium set a reasoning budget), <c>Instructions</c> (a system message), temperature, top-p, top-k, seed, penalties,
/// stop sequences and maximum output tokens. llama-specific settings go in <see cref="ChatOptions.AdditionalProperties"/>
/// under llama.cpp server's names (<c>min_p</c>, <c>typical_p</c>, <c>top_n_sigma</c>, <c>repeat_penalty</c>,
/// <c>repeat_last_n</c>, <c>xtc_probability</c>, <c>xtc_threshold</c>, <c>dry_multiplier</c>, <c>mirostat</c>,
/// <c>mirostat_tau</c>, <c>mirostat_eta</c>, <c>grammar</c>, <c>chat_template_kwargs</c>, <c>reasoning_budget_tokens</c>,
/// <c>logprobs</c>, <c>top_logprobs</c>). With <c>logprobs</c> set, each update carries the tokens it was made from
/// in its <see cref="ChatResponseUpdate.AdditionalProperties"/> under <c>logprobs</c>: an
/// <c>IReadOnlyList&lt;LlamaGenerationUpdate&gt;</c>, one per token with its log-probability and its top alternatives.
/// </para>
/// <para>
/// Streaming: answer text arrives as <see cref="TextContent"/> as it is generated, reasoning as
/// <see cref="TextReasoningContent"/>; tool-call markup never arrives as text: each call arrives as a
/// <see cref="FunctionCallContent"/> in the last update, whose finish reason is then
/// <see cref="ChatFinishReason.ToolCalls"/>.
/// </para>
/// </remarks>
public sealed partial class LlamaChatClient : IChatClient
{
    private readonly Func<CancellationToken, ValueTask<LlamaModel>> _modelProvider;
    private readonly LlamaChatClientOptions _options;
    private readonly SemaphoreSlim _initialization = new(1, 1);
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly string? _defaultModelId;
    private LlamaModel? _model;
    private LlamaChatTemplate? _template;
    private InferenceEngine? _engine;
    private LlamaUsage? _lastUsage;
    private bool _disposed;

    /// <summary>Creates a chat client over a loaded model. The client does not own the model: dispose it yourself.</summary>
    /// <param name="model">The model.</param>
    /// <param name="options">Context, template and history settings; null for the defaults.</param>
    /// <param name="loggerFactory">Where the client logs (e.g. that a model without a template falls back to ChatML); null for nowhere.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public LlamaChatClient(LlamaModel model, LlamaChatClientOptions? options = null, ILoggerFactory? loggerFactory = null)
        : this(_ => ValueTask.FromResult(model ?? throw new ArgumentNullException(nameof(model))), options, loggerFactory, model?.Path)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>Creates a chat client whose model is loaded on first use (dependency injection).</summary>
    internal LlamaChatClient(Func<CancellationToken, ValueTask<LlamaModel>> modelProvider, LlamaChatClientOptions? options, ILoggerFactory? loggerFactory, string? modelPath)
    {
        _modelProvider = modelProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory?.CreateLogger<LlamaChatClient>() ?? NullLogger<LlamaChatClient>.Instance;
        _options = options ?? new LlamaChatClientOptions();
        _options.Validate();
        _defaultModelId = _options.ModelId ?? (string.IsNullOrEmpty(modelPath) ? null : Path.GetFileNameWithoutExtension(modelPath));
    }

    /// <summary>
    /// Gets the usage of the most recent request, or null before the first. With
    /// <see cref="LlamaChatClientOptions.ParallelSequences"/> above 1, requests run side by side and "most recent"
    /// means nothing, so this stays null: read each response's <see cref="ChatResponse.Usage"/> instead.
    /// </summary>
    public LlamaUsage? LastUsage => _options.ParallelSequences == 1 ? Volatile.Read(ref _lastUsage) : null;

    /// <summary>Gets the chat template in use, or null before the model has loaded.</summary>
    public LlamaChatTemplate? Template => Volatile.Read(ref _template);

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ObjectDisposedException.ThrowIf(_disposed, this);
        List<LlamaChatMessage> conversation = ChatMessageMapper.ToLlama(messages);
        LlamaGenerationOptions generation = ChatOptionsMapper.Map(options, _options.DefaultMaxOutputTokens);
        return StreamAsync(conversation, options, generation, cancellationToken);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return new ChatClientMetadata("LocalLlm", defaultModelId: _defaultModelId);
        }

        if (serviceType == typeof(LlamaModel))
        {
            return _model;
        }

        if (serviceType == typeof(LlamaModelMetadata))
        {
            return _model?.Metadata;
        }

        if (serviceType == typeof(LlamaChatTemplate))
        {
            return Template;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Frees the client's context (not the model). Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _engine?.Dispose();
        _initialization.Dispose();
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(
        List<LlamaChatMessage> conversation,
        ChatOptions? chatOptions,
        LlamaGenerationOptions generation,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        LlamaChatTemplate template = _template!;
        ChatTemplateRequest request = ChatRequestMapper.Map(conversation, chatOptions, template, _options, out int? reasoningBudget);
        bool returnReasoning = chatOptions?.Reasoning?.Output is not ReasoningOutput.None;
        InferenceEngine engine = _engine!;
        Volatile.Write(ref _lastUsage, null); // a request that ends without usage (cancelled, failed) leaves none

        // Requests generate side by side, each in its own sequence, or wait in the engine's queue for a free one.
        using ChatTurn turn = ChatTurn.Prepare(template, _model!.Tokenizer, request, generation, reasoningBudget, engine.SequenceContextSize, _options.HistoryPolicy);
        LogPrompt(turn);
        var generationRequest = new GenerationRequest(engine.FitPrompt(turn.Prompt, turn.Generation), turn.Generation, cancellationToken);
        await foreach (ChatResponseUpdate update in ToChatUpdates(turn, engine.StreamAsync(generationRequest, cancellationToken), returnReasoning).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    /// <summary>
    /// Streams a plain completion of <paramref name="prompt"/> (no template) on the client's own context, so an
    /// OpenAI-compatible server's legacy completions share the chat requests' sequences, batching and queue.
    /// </summary>
    internal async IAsyncEnumerable<LlamaGenerationUpdate> StreamCompletionAsync(int[] prompt, LlamaGenerationOptions generation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        InferenceEngine engine = _engine!;
        var request = new GenerationRequest(engine.FitPrompt(prompt, generation), generation, cancellationToken);
        await foreach (LlamaGenerationUpdate update in engine.StreamAsync(request, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    /// <summary>Gets the model once it has loaded, loading it on first use.</summary>
    internal async ValueTask<LlamaModel> GetModelAsync(CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return _model!;
    }

    /// <summary>Gets how many requests are generating now (0 before the model has loaded).</summary>
    internal int ActiveRequests => _engine?.ActiveRequests ?? 0;

    /// <summary>Gets the sequence context size and sequence count, or null before the model has loaded.</summary>
    internal (int SequenceContextSize, int Sequences)? ContextShape => _engine is { } engine ? (engine.SequenceContextSize, _options.ParallelSequences) : null;

    private async IAsyncEnumerable<ChatResponseUpdate> ToChatUpdates(ChatTurn turn, IAsyncEnumerable<LlamaGenerationUpdate> updates, bool returnReasoning)
    {
        string responseId = Guid.NewGuid().ToString("N");
        string? modelId = _defaultModelId;
        DateTimeOffset created = DateTimeOffset.UtcNow;
        ChatReplyParser parser = turn.Parser;
        int reasoningTokens = 0;
        List<LlamaGenerationUpdate>? tokens = turn.Generation.LogProbabilities ? [] : null;
        await foreach (LlamaGenerationUpdate update in updates.ConfigureAwait(false))
        {
            if (tokens is not null && update.TokenId is not null)
            {
                tokens.Add(update);
            }

            bool wasReasoning = parser.InReasoning;
            ChatReplyDelta delta = parser.Append(update.Text);
            if (update.FinishReason is null && update.Text.Length > 0 && (wasReasoning || parser.InReasoning))
            {
                reasoningTokens++;
            }

            var chatUpdate = new ChatResponseUpdate { Role = ChatRole.Assistant, ResponseId = responseId, MessageId = responseId, ModelId = modelId, CreatedAt = created };
            AddDelta(chatUpdate, delta, returnReasoning);
            if (update.FinishReason is not { } reason)
            {
                if (chatUpdate.Contents.Count > 0)
                {
                    TakeTokens(chatUpdate, ref tokens);
                    yield return chatUpdate;
                }

                continue;
            }

            ChatReply reply = parser.Complete(cutOff: reason != LlamaFinishReason.Stop, out string? parseError);
            if (parseError is not null)
            {
                LogUnparsedReply(_logger, turn.Rendering.FormatName, parseError);
            }

            AddDelta(chatUpdate, reply.Remainder, returnReasoning);
            foreach (LlamaToolCall call in reply.ToolCalls)
            {
                chatUpdate.Contents.Add(ChatMessageMapper.ToFunctionCall(call));
            }

            chatUpdate.FinishReason = reply.ToolCalls.Count > 0 ? ChatFinishReason.ToolCalls
                : reason == LlamaFinishReason.Stop ? ChatFinishReason.Stop
                : ChatFinishReason.Length;
            Volatile.Write(ref _lastUsage, update.Usage);
            chatUpdate.Contents.Add(new UsageContent(new UsageDetails
            {
                InputTokenCount = update.Usage!.PromptTokens,
                OutputTokenCount = update.Usage.GeneratedTokens,
                TotalTokenCount = update.Usage.PromptTokens + update.Usage.GeneratedTokens,
                CachedInputTokenCount = update.Usage.CachedPromptTokens,
                ReasoningTokenCount = reasoningTokens,
            }));
            TakeTokens(chatUpdate, ref tokens);
            yield return chatUpdate;
        }
    }

    // The tokens (with their log-probabilities) behind an update's text travel with it; the list starts afresh.
    private static void TakeTokens(ChatResponseUpdate update, ref List<LlamaGenerationUpdate>? tokens)
    {
        if (tokens is { Count: > 0 })
        {
            (update.AdditionalProperties ??= [])["logprobs"] = tokens;
            tokens = [];
        }
    }

    private static void AddDelta(ChatResponseUpdate update, ChatReplyDelta delta, bool returnReasoning)
    {
        if (returnReasoning && !string.IsNullOrEmpty(delta.Reasoning))
        {
            update.Contents.Add(new TextReasoningContent(delta.Reasoning));
        }

        if (!string.IsNullOrEmpty(delta.Content))
        {
            update.Contents.Add(new TextContent(delta.Content));
        }
    }

    private async ValueTask EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _template) is not null)
        {
            return;
        }

        await _initialization.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_template is not null)
            {
                return;
            }

            LlamaModel model = await _modelProvider(cancellationToken).ConfigureAwait(false);
            LlamaChatTemplate template = CreateTemplate(model);
            _model = model;
            InferenceEngineSettings settings = InferenceEngineSettings.FromContextOptions(model, _options.Context, _options.ParallelSequences,
                owner: _options.ParallelSequences == 1 ? "session" : "scheduler",
                static () => new ObjectDisposedException(nameof(LlamaChatClient), "The chat client was disposed while the request was in progress."));
            settings.Loop.ReusePromptCache = true; // the next turn of a conversation evaluates only its new messages
            settings.Loop.LoggerFactory = _loggerFactory;
            settings.Loop.MaxQueuedRequests = _options.MaxQueuedRequests;
            settings.Loop.QueueFullBehavior = _options.QueueFullBehavior;
            _engine = new InferenceEngine(model, settings);
            Volatile.Write(ref _template, template);
        }
        finally
        {
            _initialization.Release();
        }
    }

    private LlamaChatTemplate CreateTemplate(LlamaModel model)
    {
        if (_options.TemplateName is { } name)
        {
            return LlamaChatTemplate.FromName(name);
        }

        if (_options.TemplateText is { } text)
        {
            return LlamaChatTemplate.FromText(text, model);
        }

        LlamaChatTemplate template = LlamaChatTemplate.FromModel(model);
        if (template.IsChatMLFallback)
        {
            if (_options.RequireModelTemplate)
            {
                throw new LlamaChatTemplateException(
                    $"Model '{model.Path}' has no chat template (tokenizer.chat_template), and RequireModelTemplate is set. " +
                    $"Name one with TemplateText (Jinja) or TemplateName (one of: {string.Join(", ", LlamaChatTemplate.BuiltInNames)}).");
            }

            LogChatMLFallback(_logger, model.Path);
        }

        return template;
    }

    private void LogPrompt(ChatTurn turn)
    {
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            LogRenderedPrompt(_logger, turn.Prompt.Length, turn.Rendering.FormatName, turn.Rendering.Prompt);
        }
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "Rendered prompt ({TokenCount} tokens, reply format {Format}):\n{Prompt}")]
    private static partial void LogRenderedPrompt(ILogger logger, int tokenCount, string format, string prompt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model '{ModelPath}' has no chat template (tokenizer.chat_template); formatting chats as ChatML, as llama-server does. Set TemplateText or TemplateName if the model expects another format.")]
    private static partial void LogChatMLFallback(ILogger logger, string modelPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The reply was not read as the template's {Format} reply format expects ({Error}); no tool call is reported from it.")]
    private static partial void LogUnparsedReply(ILogger logger, string format, string error);
}
