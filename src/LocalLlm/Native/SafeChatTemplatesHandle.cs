using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>Owns a parsed chat template (llama.cpp's <c>common_chat_templates</c>); holds no pointer to the model.</summary>
internal sealed class SafeChatTemplatesHandle : SafeHandle
{
    public SafeChatTemplatesHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    internal void Attach(nint templates) => SetHandle(templates);

    protected override bool ReleaseHandle()
    {
        NativeMethods.localllm_chat_templates_free(handle);
        return true;
    }
}
