using System.Runtime.InteropServices;

namespace LocalLlm.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_chat_builtin_templates(byte** output, nuint len);
}
