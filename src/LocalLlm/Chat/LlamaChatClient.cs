using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>
/// An <see cref="IChatClient"/> over a local GGUF model: formats messages with the model's chat template, streams the
/// reply, and reports the finish reason and token usage.
/// </summary>
/// <remarks>
/// Thread-safe: concurrent requests queue for the client's one inference context (a caller can cancel while it
/// waits) and each request reuses the KV cache of whatever prefix it shares with the previous one, so the next turn
/// of a conversation evaluates only its new messages. <see cref="ChatOptions"/> maps onto the sampler chain
/// (temperature, top-p, top-k, seed, penalties, stop sequences, maximum output tokens, and JSON response format as a
/// grammar); llama-specific settings go in <see cref="ChatOptions.AdditionalProperties"/> under llama.cpp server's
/// names (<c>min_p</c>, <c>typical_p</c>, <c>top_n_sigma</c>, <c>repeat_penalty</c>, <c>repeat_last_n</c>,
/// <c>xtc_probability</c>, <c>xtc_threshold</c>, <c>dry_multiplier</c>, <c>mirostat</c>, <c>mirostat_tau</c>,
/// <c>mirostat_eta</c>, <c>grammar</c>). Tools are not offered to the model: function calling is not supported yet.
/// </remarks>
public sealed class LlamaChatClient : IChatClient
{
    private readonly Func<CancellationToken, ValueTask<LlamaModel>> _modelProvider;
    private readonly LlamaChatClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _initialization = new(1, 1);
    private LlamaModel? _model;
    private LlamaChatTemplate? _template;
    private LlamaSession? _session;
    private readonly ILoggerFactory? _loggerFactory;
    private LlamaScheduler? _scheduler;
    private bool _disposed;

    /// <summary>Creates a chat client over a loaded model. The client does not own the model: dispose it yourself.</summary>
    /// <param name="model">The model.</param>
    /// <param name="options">Context, template and history settings; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public LlamaChatClient(LlamaModel model, LlamaChatClientOptions? options = null)
        : this(_ => ValueTask.FromResult(model ?? throw new ArgumentNullException(nameof(model))), options)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>Creates a chat client whose model is loaded on first use (dependency injection).</summary>
    internal LlamaChatClient(Func<CancellationToken, ValueTask<LlamaModel>> modelProvider, LlamaChatClientOptions? options, ILoggerFactory? loggerFactory = null)
    {
        _modelProvider = modelProvider;
        _loggerFactory = loggerFactory;
        _options = options ?? new LlamaChatClientOptions();
        _options.Context.Validate();
        if (_options.ParallelSequences is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.ParallelSequences, $"ParallelSequences must be between 1 and 256, but was {_options.ParallelSequences}.");
        }
    }

    /// <summary>
    /// Gets the usage of the most recent request, or null before the first. With
    /// <see cref="LlamaChatClientOptions.ParallelSequences"/> above 1, requests run side by side and "most recent"
    /// means nothing, so this stays null: read each response's <see cref="ChatResponse.Usage"/> instead.
    /// </summary>
    public LlamaUsage? LastUsage => _session?.LastUsage;

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ObjectDisposedException.ThrowIf(_disposed, this);
        LlamaChatMessage[] conversation = messages.Select(ToLlama).ToArray();
        LlamaGenerationOptions generation = ChatOptionsMapper.Map(options, _options.DefaultMaxOutputTokens);
        return StreamAsync(conversation, generation, cancellationToken);
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
            return new ChatClientMetadata("LocalLlm", defaultModelId: ModelId(_model));
        }

        if (serviceType == typeof(LlamaModel))
        {
            return _model;
        }

        if (serviceType == typeof(LlamaModelMetadata))
        {
            return _model?.Metadata;
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
        _session?.Dispose();
        _scheduler?.Dispose();
        _gate.Dispose();
        _initialization.Dispose();
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(
        LlamaChatMessage[] conversation,
        LlamaGenerationOptions generation,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        if (_scheduler is { } scheduler)
        {
            // Batched: requests generate side by side, each in its own sequence; no queue for the context here.
            int[] prompt = BuildPrompt(conversation, generation, scheduler.ContextSizePerSequence);
            await foreach (ChatResponseUpdate update in ToChatUpdates(scheduler.StreamAsync(prompt, generation, cancellationToken)).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LlamaSession session = _session!;
            int[] prompt = BuildPrompt(conversation, generation, session.ContextSize);
            await foreach (ChatResponseUpdate update in ToChatUpdates(session.StreamAsync(prompt, generation, cancellationToken)).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private int[] BuildPrompt(LlamaChatMessage[] conversation, LlamaGenerationOptions generation, int contextSize) =>
        ChatPrompt.Build(
            _template!,
            _model!.Tokenizer,
            conversation,
            contextSize,
            ChatPrompt.Reserve(generation.MaxTokens, contextSize),
            _options.HistoryPolicy,
            out _);

    private async IAsyncEnumerable<ChatResponseUpdate> ToChatUpdates(IAsyncEnumerable<LlamaGenerationUpdate> updates)
    {
        string responseId = Guid.NewGuid().ToString("N");
        string? modelId = ModelId(_model);
        DateTimeOffset created = DateTimeOffset.UtcNow;
        await foreach (LlamaGenerationUpdate update in updates.ConfigureAwait(false))
        {
            var chatUpdate = new ChatResponseUpdate(ChatRole.Assistant, update.Text)
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = modelId,
                CreatedAt = created,
            };

            if (update.FinishReason is { } reason)
            {
                chatUpdate.FinishReason = reason == LlamaFinishReason.Stop ? ChatFinishReason.Stop : ChatFinishReason.Length;
                chatUpdate.Contents.Add(new UsageContent(new UsageDetails
                {
                    InputTokenCount = update.Usage!.PromptTokens,
                    OutputTokenCount = update.Usage.GeneratedTokens,
                    TotalTokenCount = update.Usage.PromptTokens + update.Usage.GeneratedTokens,
                    CachedInputTokenCount = update.Usage.CachedPromptTokens,
                }));
            }
            else if (update.Text.Length == 0)
            {
                continue;
            }

            yield return chatUpdate;
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
            LlamaChatTemplate template = _options.TemplateName is { } name ? LlamaChatTemplate.FromName(name) : LlamaChatTemplate.FromModel(model);
            _model = model;
            if (_options.ParallelSequences > 1)
            {
                _scheduler = new LlamaScheduler(model, new LlamaSchedulerOptions
                {
                    ParallelSequences = _options.ParallelSequences,
                    ContextSizePerSequence = _options.Context.ContextSize ?? InferenceContexts.DefaultSize(model),
                    ThreadCount = _options.Context.ThreadCount,
                    Seed = _options.Context.Seed,
                    OverflowPolicy = _options.Context.OverflowPolicy,
                    ReusePromptCache = true, // the next turn of a conversation evaluates only its new messages
                    ShiftKeepTokens = _options.Context.ShiftKeepTokens,
                    LoggerFactory = _loggerFactory,
                });
            }
            else
            {
                _session = new LlamaSession(model, _options.Context);
            }

            Volatile.Write(ref _template, template);
        }
        finally
        {
            _initialization.Release();
        }
    }

    private string? ModelId(LlamaModel? model) => _options.ModelId ?? (model is null ? null : Path.GetFileNameWithoutExtension(model.Path));

    private static LlamaChatMessage ToLlama(ChatMessage message)
    {
        foreach (AIContent content in message.Contents)
        {
            if (content is not TextContent and not UsageContent and not TextReasoningContent)
            {
                throw new NotSupportedException(
                    $"LlamaChatClient handles text only; a {message.Role} message holds {content.GetType().Name}. Remove it, or describe it in text.");
            }
        }

        return new LlamaChatMessage(message.Role.Value, message.Text);
    }
}
