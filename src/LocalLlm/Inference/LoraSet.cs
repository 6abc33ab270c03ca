using System.Globalization;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// The adapters one request applies, as llama.cpp takes them (<c>llama_set_adapters_lora</c>), with a key that is the
/// same for the same adapters and scales in any order. It holds a reference on each adapter's handle from the request's
/// start to its end, so an adapter disposed meanwhile is freed only after the request.
/// </summary>
internal sealed class LoraSet : IDisposable
{
    public static readonly LoraSet None = new([], []);

    private readonly SafeLoraAdapterHandle[] _handles;
    private readonly LlamaLoraAdapter[] _adapters;
    private int _released;

    private LoraSet(LlamaLoraAdapter[] adapters, float[] scales)
    {
        _adapters = adapters;
        _handles = [.. adapters.Select(a => a.Handle)];
        Scales = scales;
        Key = string.Join(';', _handles.Select((h, i) => (Pointer: h.DangerousGetHandle(), Scale: scales[i])).OrderBy(p => p.Pointer).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Pointer:x}*{p.Scale:R}")));
        foreach (SafeLoraAdapterHandle handle in _handles)
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
        }
    }

    /// <summary>Empty for no adapter.</summary>
    public string Key { get; }

    public float[] Scales { get; }

    public int Count => _handles.Length;

    public static LoraSet For(IList<LlamaLoraApplication> applications) =>
        applications.Count == 0 ? None : new LoraSet([.. applications.Select(a => a.Adapter)], [.. applications.Select(a => a.Scale)]);

    /// <summary>Refuses adapters loaded for another model than the one serving the request.</summary>
    public void ThrowIfNotFor(LlamaModel model)
    {
        foreach (LlamaLoraAdapter adapter in _adapters)
        {
            if (!ReferenceEquals(adapter.Model, model))
            {
                throw new ArgumentException($"The LoRA adapter '{adapter.Path}' was loaded for model '{adapter.Model.Path}', not for '{model.Path}', which serves this request. Load it with LlamaLoraAdapter.Load for this model.");
            }
        }
    }

    /// <summary>Makes these the context's adapters.</summary>
    public void ApplyTo(SafeLlamaContextHandle context) => context.SetLoraAdapters(_handles, Scales);

    public void Dispose()
    {
        if (this == None || Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        foreach (SafeLoraAdapterHandle handle in _handles)
        {
            handle.DangerousRelease();
        }
    }
}
