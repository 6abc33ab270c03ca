using System.Runtime.InteropServices;

namespace LocalLlm.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_chat_apply_template(
        byte* tmpl,
        llama_chat_message* chat,
        nuint n_msg,
        [MarshalAs(UnmanagedType.U1)] bool add_ass,
        byte* buf,
        int length);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_chat_builtin_templates(byte** output, nuint len);
}
