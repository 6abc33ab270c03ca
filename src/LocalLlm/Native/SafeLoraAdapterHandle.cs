using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// A LoRA adapter loaded for a model. It holds a reference on the model's handle, so the model is freed only after
/// the adapter (llama.cpp would otherwise free the adapter with the model, behind this handle's back).
/// </summary>
internal sealed unsafe class SafeLoraAdapterHandle : SafeHandle
{
    private SafeLlamaModelHandle? _model;

    public SafeLoraAdapterHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>Loads the adapter; an invalid handle when llama.cpp refused the file (it logs why).</summary>
    public static SafeLoraAdapterHandle Load(SafeLlamaModelHandle model, string path)
    {
        var adapter = new SafeLoraAdapterHandle();
        bool added = false;
        model.DangerousAddRef(ref added);
        nint native = NativeMethods.llama_adapter_lora_init(model, path);
        if (native == nint.Zero)
        {
            model.DangerousRelease();
            return adapter;
        }

        adapter._model = model;
        adapter.SetHandle(native);
        return adapter;
    }

    /// <summary>The adapter's GGUF metadata (scalar values as text).</summary>
    public Dictionary<string, string> ReadMetadata()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        int count = NativeMethods.llama_adapter_meta_count(this);
        for (int i = 0; i < count; i++)
        {
            string? key = NativeText.Read((buffer, size) => NativeMethods.llama_adapter_meta_key_by_index(this, i, buffer, size));
            if (key is not null)
            {
                metadata[key] = NativeText.Read((buffer, size) => NativeMethods.llama_adapter_meta_val_str_by_index(this, i, buffer, size)) ?? string.Empty;
            }
        }

        return metadata;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_adapter_lora_free(handle);
        _model?.DangerousRelease();
        return true;
    }
}
