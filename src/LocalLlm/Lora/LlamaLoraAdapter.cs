using System.Globalization;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// A LoRA adapter (a GGUF with <c>adapter.type = lora</c>) loaded for one model. Apply it, with a scale, per request
/// through <see cref="LlamaGenerationOptions.Adapters"/>: sessions, schedulers and the chat client take it, and requests
/// with different adapters (or none) share one scheduler.
/// </summary>
/// <remarks>Dispose it once no request uses it; the model is freed only after its adapters.</remarks>
public sealed class LlamaLoraAdapter : IDisposable
{
    private readonly SafeLoraAdapterHandle _handle;

    private LlamaLoraAdapter(SafeLoraAdapterHandle handle, LlamaModel model, string path)
    {
        _handle = handle;
        Model = model;
        Path = path;
        Metadata = handle.ReadMetadata();
        Alpha = Metadata.TryGetValue("adapter.lora.alpha", out string? alpha) && float.TryParse(alpha, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value != 0 ? value : null;
    }

    /// <summary>Gets the model the adapter was loaded for.</summary>
    public LlamaModel Model { get; }

    /// <summary>Gets the adapter file's full path.</summary>
    public string Path { get; }

    /// <summary>Gets the adapter's GGUF metadata, scalar values as text.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Gets the adapter's alpha (<c>adapter.lora.alpha</c>), or null when it has none; llama.cpp scales the update by alpha / rank when it is set.</summary>
    public float? Alpha { get; }

    /// <summary>Gets a value indicating whether the adapter has been disposed.</summary>
    public bool IsDisposed => _handle.IsClosed;

    internal SafeLoraAdapterHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _handle;
        }
    }

    /// <summary>Loads a LoRA adapter for <paramref name="model"/>.</summary>
    /// <param name="model">The base model the adapter was trained for.</param>
    /// <param name="path">The adapter's GGUF file.</param>
    /// <returns>The loaded adapter.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="model"/> was disposed.</exception>
    /// <exception cref="LlamaException">
    /// llama.cpp refused the file: not a LoRA GGUF, made for another architecture, or of other shapes than the model's
    /// tensors; the message says which.
    /// </exception>
    public static LlamaLoraAdapter Load(LlamaModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"The LoRA adapter '{fullPath}' does not exist.", fullPath);
        }

        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        SafeLoraAdapterHandle handle = SafeLoraAdapterHandle.Load(model.Handle, fullPath);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            string reason = errors.Lines.LastOrDefault(l => l.Contains("failed to apply lora adapter", StringComparison.Ordinal) || l.Contains("lora", StringComparison.OrdinalIgnoreCase)) ?? errors.LastLine ?? "llama.cpp gave no reason";
            throw new LlamaException($"LoRA adapter '{fullPath}' could not be loaded for model '{model.Path}' ({model.Metadata.Architecture}): {reason.Trim()}");
        }

        return new LlamaLoraAdapter(handle, model, fullPath);
    }

    /// <summary>Frees the adapter. Idempotent.</summary>
    public void Dispose() => _handle.Dispose();
}
