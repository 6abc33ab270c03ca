using System.Text.Json;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Formats a conversation into the prompt text a model was trained on by running the model's own Jinja template through
/// llama.cpp's template engine with llama-server's conventions (tools, tool calls and results, reasoning, a JSON schema
/// for the reply); or, when named explicitly, one of llama.cpp's built-in template families.
/// </summary>
/// <remarks>
/// Thread-safe and immutable. The parsed template holds no reference to the model it came from. A template that
/// raises an error while rendering (some refuse a system message, or roles that do not alternate) fails with
/// <see cref="LlamaChatTemplateException"/> carrying the template's own message.
/// </remarks>
public sealed class LlamaChatTemplate
{
    private static readonly Lazy<IReadOnlyList<string>> s_builtInNames = new(ReadBuiltInNames);

    private readonly SafeChatTemplatesHandle _handle;
    private readonly Dictionary<string, bool> _capabilities;

    private LlamaChatTemplate(SafeChatTemplatesHandle handle, string? name, string? text, bool isFallback)
    {
        _handle = handle;
        IsBuiltInName = name is not null;
        IsChatMLFallback = isFallback;
        using JsonDocument description = JsonDocument.Parse(NativeChatLayer.Describe(handle));
        JsonElement root = description.RootElement;
        Source = name ?? text ?? root.GetProperty("source").GetString()!;
        _capabilities = root.GetProperty("caps").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetBoolean(), StringComparer.Ordinal);
    }

    /// <summary>Gets the names of llama.cpp's built-in template families, e.g. <c>chatml</c>, <c>llama3</c>, <c>gemma</c>.</summary>
    public static IReadOnlyList<string> BuiltInNames => s_builtInNames.Value;

    /// <summary>Gets the template: its Jinja text, or the built-in family name.</summary>
    public string Source { get; }

    /// <summary>Gets a value indicating whether <see cref="Source"/> names a built-in family rather than holding Jinja text.</summary>
    public bool IsBuiltInName { get; }

    /// <summary>
    /// Gets a value indicating whether the model had no chat template and ChatML stands in for it, as llama-server does.
    /// </summary>
    public bool IsChatMLFallback { get; }

    /// <summary>Gets a value indicating whether the template shows the model the tools it may call.</summary>
    public bool SupportsTools => !IsBuiltInName && Capability("supports_tools");

    /// <summary>Gets a value indicating whether the template renders an assistant's tool calls in the history.</summary>
    public bool SupportsToolCalls => !IsBuiltInName && Capability("supports_tool_calls");

    /// <summary>Gets a value indicating whether the template can render several tool calls in one assistant turn.</summary>
    public bool SupportsParallelToolCalls => !IsBuiltInName && Capability("supports_parallel_tool_calls");

    /// <summary>Gets a value indicating whether the template has a place for a system message.</summary>
    public bool SupportsSystemRole => IsBuiltInName || Capability("supports_system_role");

    /// <summary>Uses the chat template stored in the model (<c>tokenizer.chat_template</c>), or ChatML when it has none.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The template; <see cref="IsChatMLFallback"/> says whether the model had none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="LlamaChatTemplateException">The model's template is not valid Jinja.</exception>
    public static LlamaChatTemplate FromModel(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? own = model.Metadata.ChatTemplate;
        return Create(model, templateOverride: null, name: null, string.IsNullOrEmpty(own) ? null : own, $"model '{model.Path}'");
    }

    /// <summary>Uses one of llama.cpp's built-in template families by name (no tools; no reasoning parsing).</summary>
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

        return Create(null, name, name, text: null, $"built-in template '{name}'");
    }

    /// <summary>Uses a Jinja template given as text, e.g. from a model card, instead of the model's own.</summary>
    /// <param name="template">The Jinja template text.</param>
    /// <param name="model">The model whose BOS and EOS tokens the template sees as <c>bos_token</c> and <c>eos_token</c>; null for none.</param>
    /// <returns>The template.</returns>
    /// <exception cref="ArgumentException"><paramref name="template"/> is null or blank.</exception>
    /// <exception cref="LlamaChatTemplateException">The text is not valid Jinja (the message says where).</exception>
    public static LlamaChatTemplate FromText(string template, LlamaModel? model = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        return Create(model, template, name: null, template, $"the template starting \"{Start(template)}\"");
    }

    /// <summary>Formats a conversation into prompt text.</summary>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="addAssistantPrefix">Ends with the text that opens the assistant's turn, so the model replies next.</param>
    /// <returns>The prompt text, special tokens written as text (tokenize it with special-token parsing).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is null.</exception>
    /// <exception cref="LlamaChatTemplateException">The template raised an error for this conversation.</exception>
    public string Apply(IReadOnlyList<LlamaChatMessage> messages, bool addAssistantPrefix = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return Render(new ChatTemplateRequest { Messages = messages, AddGenerationPrompt = addAssistantPrefix }).Prompt;
    }

    /// <inheritdoc />
    public override string ToString() => IsBuiltInName ? Source : $"{Start(Source)}…";

    /// <summary>Renders a request with llama.cpp's chat layer: the prompt, and the grammar, stops and parser of the reply.</summary>
    internal ChatTemplateRendering Render(ChatTemplateRequest request)
    {
        if (IsBuiltInName && request.Tools.Count > 0 && request.ToolChoice != LlamaToolChoice.None)
        {
            throw new LlamaChatTemplateException(
                $"The built-in template '{Source}' cannot offer tools to the model; use the model's own Jinja template (LlamaChatTemplate.FromModel or FromText).");
        }

        string inputs = request.ToJson(useJinja: !IsBuiltInName);
        string json;
        try
        {
            json = NativeChatLayer.Apply(_handle, inputs);
        }
        catch (NativeChatLayerException ex)
        {
            throw new LlamaChatTemplateException($"The chat template ({ToString()}) could not render the conversation: {ex.Message}");
        }

        return ChatTemplateRendering.FromJson(json);
    }

    private bool Capability(string name) => _capabilities.TryGetValue(name, out bool value) && value;

    // text: the template's own text for Source; null with no name means the model has none and ChatML stands in.
    private static LlamaChatTemplate Create(LlamaModel? model, string? templateOverride, string? name, string? text, string what)
    {
        bool isFallback = name is null && text is null;
        NativeLibraryLoader.EnsureChatLayer();
        try
        {
            if (model is null)
            {
                return new LlamaChatTemplate(NativeChatLayer.InitTemplates(null, templateOverride), name, text, isFallback);
            }

            using HandleLease lease = model.Lease();
            return new LlamaChatTemplate(NativeChatLayer.InitTemplates(model.Handle, templateOverride), name, text, isFallback);
        }
        catch (NativeChatLayerException ex)
        {
            throw new LlamaChatTemplateException(
                $"The chat template of {what} is not valid Jinja: {ex.Message}. Name a template explicitly with LlamaChatTemplate.FromText or FromName.");
        }
    }

    private static string Start(string template) => (template.Length > 60 ? template[..60] : template).ReplaceLineEndings(" ");

    private static string[] ReadBuiltInNames()
    {
        NativeLibraryLoader.EnsureInitialized();
        return NativeChatTemplate.BuiltInNames();
    }
}
