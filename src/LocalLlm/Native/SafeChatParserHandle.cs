using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>Owns a reply parser built for one rendered prompt (llama.cpp's <c>common_chat_parser_params</c>).</summary>
internal sealed class SafeChatParserHandle : SafeHandle
{
    public SafeChatParserHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    internal void Attach(nint parser) => SetHandle(parser);

    protected override bool ReleaseHandle()
    {
        NativeMethods.localllm_chat_parser_free(handle);
        return true;
    }
}
