using System.Runtime.CompilerServices;
using System.Text;

namespace LocalLlm;

/// <summary>
/// A multi-turn conversation with a model: formats the history with the model's chat template and keeps the KV cache
/// between turns, so each turn evaluates only the new messages.
/// </summary>
/// <remarks>Like <see cref="LlamaSession"/>, a chat session runs one turn at a time. Dispose it to free its context.</remarks>
public sealed class LlamaChatSession : IDisposable
{
    private readonly LlamaChatSessionOptions _options;
    private readonly LlamaChatTemplate _template;
    private readonly List<LlamaChatMessage> _history = [];

    /// <summary>Starts a conversation with <paramref name="model"/>.</summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="options">The context, template, system prompt and history policy; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="LlamaChatTemplateException">No template was given and the model's own cannot be applied.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A context option is out of range.</exception>
    public LlamaChatSession(LlamaModel model, LlamaChatSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new LlamaChatSessionOptions();
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

    /// <summary>Sends a user message and streams the assistant's reply, which joins the history once complete.</summary>
    /// <param name="message">The user's message.</param>
    /// <param name="options">How to generate the reply; null for the defaults.</param>
    /// <param name="cancellationToken">Stops the reply; the user message stays in the history, the partial reply does not.</param>
    /// <returns>The reply, piece by piece.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    /// <exception cref="LlamaContextOverflowException">The conversation does not fit and the policy is <see cref="LlamaChatHistoryPolicy.Fail"/>, or the newest message alone does not fit.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IAsyncEnumerable<string> SendAsync(string message, LlamaGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        options ??= new LlamaGenerationOptions();
        options.Validate();
        return SendCoreAsync(message, options, cancellationToken);
    }

    /// <summary>Forgets the conversation (keeping the system prompt); the KV cache is reused where the new turns allow.</summary>
    public void Reset()
    {
        _history.Clear();
        AddSystemPrompt();
    }

    /// <summary>Frees the context. Idempotent.</summary>
    public void Dispose() => Session.Dispose();

    private async IAsyncEnumerable<string> SendCoreAsync(string message, LlamaGenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _history.Add(LlamaChatMessage.User(message));
        int[] prompt = ChatPrompt.Build(
            _template,
            Session.Model.Tokenizer,
            _history,
            Session.ContextSize,
            ChatPrompt.Reserve(options.MaxTokens, Session.ContextSize),
            _options.HistoryPolicy,
            out int dropped);
        RemoveDropped(dropped);

        var reply = new StringBuilder();
        await foreach (LlamaGenerationUpdate update in Session.StreamAsync(prompt, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.Text.Length > 0)
            {
                reply.Append(update.Text);
                yield return update.Text;
            }
        }

        _history.Add(LlamaChatMessage.Assistant(reply.ToString()));
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
