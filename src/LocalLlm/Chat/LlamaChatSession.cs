using System.Runtime.CompilerServices;

namespace LocalLlm;

/// <summary>
/// A multi-turn conversation with a model: formats the history with the model's chat template and keeps the KV cache
/// between turns, so each turn evaluates only the new messages. Replies carry their reasoning and tool calls apart
/// from the answer, and the history keeps all three.
/// </summary>
/// <remarks>Like <see cref="LlamaSession"/>, a chat session runs one turn at a time. Dispose it to free its context.</remarks>
public sealed class LlamaChatSession : IDisposable
{
    private readonly LlamaChatSessionOptions _options;
    private readonly LlamaChatTemplate _template;
    private readonly List<LlamaChatMessage> _history = [];

    /// <summary>Starts a conversation with <paramref name="model"/>.</summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="options">The context, template, system prompt, tools and history policy; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="LlamaChatTemplateException">No template was given and the model's own is not valid Jinja.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A context option is out of range.</exception>
    public LlamaChatSession(LlamaModel model, LlamaChatSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new LlamaChatSessionOptions();
        if (_options.ReasoningBudget is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.ReasoningBudget, $"ReasoningBudget must be at least 0 (or null for no limit), but was {_options.ReasoningBudget}.");
        }

        _template = _options.Template ?? LlamaChatTemplate.FromModel(model);
        Session = new LlamaSession(model, _options.Context);
        AddSystemPrompt();
    }

    /// <summary>Gets the conversation so far, oldest first (turns dropped by the history policy are gone).</summary>
    public IReadOnlyList<LlamaChatMessage> History => _history;

    /// <summary>Gets the session (context) the conversation runs in.</summary>
    public LlamaSession Session { get; }

    /// <summary>Gets the template that formats the conversation.</summary>
    public LlamaChatTemplate Template => _template;

    /// <summary>Sends a user message and streams the assistant's answer; both join the history once the answer is complete.</summary>
    /// <param name="message">The user's message.</param>
    /// <param name="options">How to generate the reply; null for the defaults.</param>
    /// <param name="cancellationToken">Stops the reply; neither the message nor the partial reply joins the history.</param>
    /// <returns>The answer, piece by piece (reasoning and tool calls are left out: <see cref="StreamAsync"/> has them).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The conversation does not fit and the policy is <see cref="LlamaChatHistoryPolicy.Fail"/>, or the newest message alone does not fit.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<string> SendAsync(string message, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        options ??= new LlamaGenerationOptions();
        options.Validate();
        return AnswerOnlyAsync(StreamCoreAsync(LlamaChatMessage.User(message), options, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Sends a message (a user turn, or a <c>tool</c> message with a call's result) and streams the reply: answer,
    /// reasoning and, on the last update, the tool calls. The message and the reply join the history once the reply is
    /// complete, so a cancelled or failed turn leaves the conversation as it was (templates that insist on alternating
    /// roles keep working).
    /// </summary>
    /// <param name="message">The message to add before the reply.</param>
    /// <param name="options">How to generate the reply; null for the defaults.</param>
    /// <param name="cancellationToken">Stops the reply; neither the message nor the partial reply joins the history.</param>
    /// <returns>The reply, piece by piece; the last update has the finish reason, usage and tool calls.</returns>
    /// <exception cref="ArgumentException"><paramref name="message"/> has no role.</exception>
    /// <exception cref="LlamaChatTemplateException">The template raised an error for the conversation.</exception>
    /// <exception cref="LlamaContextOverflowException">The conversation does not fit and the policy is <see cref="LlamaChatHistoryPolicy.Fail"/>, or the newest message alone does not fit.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<LlamaChatUpdate> StreamAsync(LlamaChatMessage message, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message.Role, nameof(message));
        options ??= new LlamaGenerationOptions();
        options.Validate();
        return StreamCoreAsync(message, options, cancellationToken);
    }

    /// <summary>Forgets the conversation (keeping the system prompt); the KV cache is reused where the new turns allow.</summary>
    public void Reset()
    {
        _history.Clear();
        AddSystemPrompt();
    }

    /// <summary>Frees the context. Idempotent.</summary>
    public void Dispose() => Session.Dispose();

    private static async IAsyncEnumerable<string> AnswerOnlyAsync(IAsyncEnumerable<LlamaChatUpdate> updates, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (LlamaChatUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (update.Text.Length > 0)
            {
                yield return update.Text;
            }
        }
    }

    private async IAsyncEnumerable<LlamaChatUpdate> StreamCoreAsync(LlamaChatMessage message, LlamaGenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ChatTemplateRequest
        {
            Messages = [.. _history, message],
            Tools = [.. _options.Tools],
            ToolChoice = _options.ToolChoice,
            EnableThinking = _options.EnableThinking,
            ParallelToolCalls = _options.AllowMultipleToolCalls ?? _template.SupportsParallelToolCalls,
        };

        using ChatTurn turn = ChatTurn.Prepare(_template, Session.Model.Tokenizer, request, options, _options.ReasoningBudget, Session.ContextSize, _options.HistoryPolicy);
        RemoveDropped(turn.DroppedMessages);

        await foreach (LlamaGenerationUpdate update in Session.StreamAsync(turn.Prompt, turn.Generation, cancellationToken).ConfigureAwait(false))
        {
            ChatReplyDelta delta = turn.Parser.Append(update.Text);
            if (update.FinishReason is not { } reason)
            {
                if (!delta.IsEmpty)
                {
                    yield return new LlamaChatUpdate { Text = delta.Content, Reasoning = delta.Reasoning };
                }

                continue;
            }

            ChatReply reply = turn.Parser.Complete(cutOff: reason != LlamaFinishReason.Stop, out _);
            _history.Add(message);
            _history.Add(new LlamaChatMessage("assistant", reply.Content)
            {
                ReasoningContent = reply.Reasoning.Length > 0 ? reply.Reasoning : null,
                ToolCalls = reply.ToolCalls.Count > 0 ? reply.ToolCalls : null,
            });
            yield return new LlamaChatUpdate
            {
                Text = delta.Content + reply.Remainder.Content,
                Reasoning = delta.Reasoning + reply.Remainder.Reasoning,
                ToolCalls = reply.ToolCalls,
                FinishReason = reason,
                Usage = update.Usage,
            };
        }
    }

    private void RemoveDropped(int dropped)
    {
        int start = _history.FindIndex(m => m.Role != "system");
        if (dropped > 0 && start >= 0)
        {
            _history.RemoveRange(start, dropped);
        }
    }

    private void AddSystemPrompt()
    {
        if (!string.IsNullOrEmpty(_options.SystemPrompt))
        {
            _history.Add(LlamaChatMessage.System(_options.SystemPrompt));
        }
    }
}
