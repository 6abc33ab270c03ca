using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Formats a conversation into the prompt text a model was trained on, with llama.cpp's built-in template families
/// (ChatML, Llama 2/3, Gemma, Phi, Mistral, DeepSeek, …), recognised from the model's own Jinja template.
/// </summary>
/// <remarks>Thread-safe and immutable.</remarks>
public sealed class LlamaChatTemplate
{
    private static readonly Lazy<IReadOnlyList<string>> s_builtInNames = new(ReadBuiltInNames);

    private LlamaChatTemplate(string source, bool isName)
    {
        Source = source;
        IsBuiltInName = isName;
    }

    /// <summary>Gets the names of llama.cpp's built-in template families, e.g. <c>chatml</c>, <c>llama3</c>, <c>gemma</c>.</summary>
    public static IReadOnlyList<string> BuiltInNames => s_builtInNames.Value;

    /// <summary>Gets the template: the model's Jinja text, or a built-in family name.</summary>
    public string Source { get; }

    /// <summary>Gets a value indicating whether <see cref="Source"/> names a built-in family rather than holding template text.</summary>
    public bool IsBuiltInName { get; }

    /// <summary>Uses the chat template stored in the model (<c>tokenizer.chat_template</c>).</summary>
    /// <param name="model">The model.</param>
    /// <returns>The template.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="LlamaChatTemplateException">The model has no template, or llama.cpp does not recognise it.</exception>
    public static LlamaChatTemplate FromModel(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? template = model.Metadata.ChatTemplate;
        if (string.IsNullOrEmpty(template))
        {
            throw new LlamaChatTemplateException(
                $"Model '{model.Path}' has no chat template (tokenizer.chat_template). Name one explicitly with " +
                $"LlamaChatTemplate.FromName (one of: {string.Join(", ", BuiltInNames)}), or format the prompt yourself.");
        }

        var chatTemplate = new LlamaChatTemplate(template, isName: false);
        chatTemplate.EnsureRecognised();
        return chatTemplate;
    }

    /// <summary>Uses one of llama.cpp's built-in template families by name.</summary>
    /// <param name="name">A name from <see cref="BuiltInNames"/>, e.g. <c>chatml</c>.</param>
    /// <returns>The template.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a built-in family.</exception>
    public static LlamaChatTemplate FromName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!BuiltInNames.Contains(name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a built-in chat template; use one of: {string.Join(", ", BuiltInNames)}.", nameof(name));
        }

        return new LlamaChatTemplate(name, isName: true);
    }

    /// <summary>Uses a template given as Jinja text; llama.cpp recognises its family from its distinctive markers.</summary>
    /// <param name="template">The Jinja template text, e.g. from a model card.</param>
    /// <returns>The template.</returns>
    /// <exception cref="LlamaChatTemplateException">llama.cpp does not recognise the template.</exception>
    public static LlamaChatTemplate FromText(string template)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        var chatTemplate = new LlamaChatTemplate(template, isName: false);
        chatTemplate.EnsureRecognised();
        return chatTemplate;
    }

    /// <summary>Formats a conversation into prompt text.</summary>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="addAssistantPrefix">Ends with the text that opens the assistant's turn, so the model replies next.</param>
    /// <returns>The prompt text, special tokens written as text (tokenize it with special-token parsing).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is null.</exception>
    /// <exception cref="LlamaChatTemplateException">llama.cpp could not apply the template.</exception>
    public string Apply(IReadOnlyList<LlamaChatMessage> messages, bool addAssistantPrefix = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        NativeLibraryLoader.EnsureInitialized();
        return NativeChatTemplate.Apply(Source, [.. messages.Select(m => (m.Role ?? string.Empty, m.Content ?? string.Empty))], addAssistantPrefix) ?? throw Unrecognised();
    }

    /// <inheritdoc />
    public override string ToString() => IsBuiltInName ? Source : $"{Source[..Math.Min(40, Source.Length)]}…";

    private void EnsureRecognised() => Apply([LlamaChatMessage.User("hi")]);

    private LlamaChatTemplateException Unrecognised()
    {
        string start = Source.Length > 60 ? Source[..60] + "…" : Source;
        return new LlamaChatTemplateException(
            $"llama.cpp does not recognise the chat template starting \"{start.ReplaceLineEndings(" ")}\". " +
            $"Name the family explicitly with LlamaChatTemplate.FromName (one of: {string.Join(", ", BuiltInNames)}).");
    }

    private static string[] ReadBuiltInNames()
    {
        NativeLibraryLoader.EnsureInitialized();
        return NativeChatTemplate.BuiltInNames();
    }
}
