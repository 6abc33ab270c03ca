using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// Owns a <c>llama_context</c>. Holds a reference on its model's handle, so the model is never freed
/// while a context that uses it is alive, whatever order the managed owners are disposed in.
/// </summary>
internal sealed class SafeLlamaContextHandle : SafeHandle
{
    private SafeLlamaModelHandle? _model;

    public SafeLlamaContextHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>Creates a context over <paramref name="model"/>; returns an invalid handle when llama.cpp refuses.</summary>
    public static SafeLlamaContextHandle Create(SafeLlamaModelHandle model, in llama_context_params parameters)
    {
        var context = new SafeLlamaContextHandle();
        bool added = false;
        model.DangerousAddRef(ref added);
        try
        {
            nint native = NativeMethods.llama_init_from_model(model, parameters);
            if (native != nint.Zero)
            {
                context.SetHandle(native);
                context._model = model;
                added = false; // ownership of the reference moves to the context
            }
        }
        finally
        {
            if (added)
            {
                model.DangerousRelease();
            }
        }

        return context;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_free(handle);
        _model?.DangerousRelease();
        _model = null;
        return true;
    }
}
