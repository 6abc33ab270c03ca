using System.Runtime.InteropServices;
using System.Text;

namespace LocalLlm.Native;

/// <summary>llama.cpp's built-in chat template families.</summary>
internal static class NativeChatTemplate
{
    /// <summary>
    /// Formats a conversation with <paramref name="template"/> (Jinja text or a built-in family name); returns null
    /// when llama.cpp does not recognise the template.
    /// </summary>
    public static unsafe string? Apply(string template, IReadOnlyList<(string Role, string Content)> messages, bool addAssistantPrefix)
    {
        var pinned = new List<GCHandle>(messages.Count * 2 + 1);
        try
        {
            var native = new llama_chat_message[messages.Count];
            int totalLength = 0;
            for (int i = 0; i < messages.Count; i++)
            {
                native[i].role = Pin(pinned, messages[i].Role);
                native[i].content = Pin(pinned, messages[i].Content);
                totalLength += messages[i].Content.Length + messages[i].Role.Length;
            }

            nint templateText = Pin(pinned, template);
            byte[] buffer = new byte[Math.Max(1024, totalLength * 4 + 512)];
            fixed (llama_chat_message* chat = native)
            {
                int length = Format(templateText, chat, messages.Count, addAssistantPrefix, buffer);
                if (length > buffer.Length)
                {
                    buffer = new byte[length];
                    length = Format(templateText, chat, messages.Count, addAssistantPrefix, buffer);
                }

                return length < 0 ? null : Encoding.UTF8.GetString(buffer, 0, length);
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

    /// <summary>Gets the names of the built-in template families, e.g. <c>chatml</c>, <c>llama3</c>.</summary>
    public static unsafe string[] BuiltInNames()
    {
        int count = NativeMethods.llama_chat_builtin_templates(null, 0);
        var names = new nint[count];
        fixed (nint* output = names)
        {
            count = NativeMethods.llama_chat_builtin_templates((byte**)output, (nuint)count);
        }

        return names.Take(count).Select(name => Marshal.PtrToStringUTF8(name)!).ToArray();
    }

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
}
