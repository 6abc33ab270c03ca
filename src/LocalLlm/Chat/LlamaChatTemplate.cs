using System.Runtime.InteropServices;
using System.Text;
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
    public unsafe string Apply(IReadOnlyList<LlamaChatMessage> messages, bool addAssistantPrefix = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        NativeLibraryLoader.EnsureInitialized();
        var pinned = new List<GCHandle>(messages.Count * 2 + 1);
        try
        {
            var native = new llama_chat_message[messages.Count];
            int totalLength = 0;
            for (int i = 0; i < messages.Count; i++)
            {
                native[i].role = Pin(pinned, messages[i].Role ?? string.Empty);
                native[i].content = Pin(pinned, messages[i].Content ?? string.Empty);
                totalLength += (messages[i].Content?.Length ?? 0) + (messages[i].Role?.Length ?? 0);
            }

            nint template = Pin(pinned, Source);
            byte[] buffer = new byte[Math.Max(1024, totalLength * 4 + 512)];
            fixed (llama_chat_message* chat = native)
            {
                int length = Format(template, chat, messages.Count, addAssistantPrefix, buffer);
                if (length > buffer.Length)
                {
                    buffer = new byte[length];
                    length = Format(template, chat, messages.Count, addAssistantPrefix, buffer);
                }

                if (length < 0)
                {
                    throw Unrecognised();
                }

                return Encoding.UTF8.GetString(buffer, 0, length);
            }
        }
        finally
        {
            foreach (GCHandle handle in pinned)
            {
                handle.Free();
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => IsBuiltInName ? Source : $"{Source[..Math.Min(40, Source.Length)]}…";

    private static unsafe int Format(nint template, llama_chat_message* chat, int count, bool addAssistantPrefix, byte[] buffer)
    {
        fixed (byte* output = buffer)
        {
            return NativeMethods.llama_chat_apply_template((byte*)template, chat, (nuint)count, addAssistantPrefix, output, buffer.Length);
        }
    }

    private static nint Pin(List<GCHandle> pinned, string text)
    {
        byte[] utf8 = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, utf8);
        GCHandle handle = GCHandle.Alloc(utf8, GCHandleType.Pinned);
        pinned.Add(handle);
        return handle.AddrOfPinnedObject();
    }

    private void EnsureRecognised() => Apply([LlamaChatMessage.User("hi")]);

    private LlamaChatTemplateException Unrecognised()
    {
        string start = Source.Length > 60 ? Source[..60] + "…" : Source;
        return new LlamaChatTemplateException(
            $"llama.cpp does not recognise the chat template starting \"{start.ReplaceLineEndings(" ")}\". " +
            $"Name the family explicitly with LlamaChatTemplate.FromName (one of: {string.Join(", ", BuiltInNames)}).");
    }

    private static unsafe string[] ReadBuiltInNames()
    {
        NativeLibraryLoader.EnsureInitialized();
        int count = NativeMethods.llama_chat_builtin_templates(null, 0);
        var names = new nint[count];
        fixed (nint* output = names)
        {
            count = NativeMethods.llama_chat_builtin_templates((byte**)output, (nuint)count);
        }

        return names.Take(count).Select(name => Marshal.PtrToStringUTF8(name)!).ToArray();
    }
}
