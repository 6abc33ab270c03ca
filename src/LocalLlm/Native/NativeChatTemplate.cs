using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>llama.cpp's built-in chat template families (formatting itself runs through the chat shim, <see cref="NativeChatLayer"/>).</summary>
internal static class NativeChatTemplate
{
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
}
