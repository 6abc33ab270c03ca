using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>How <see cref="LlamaModel.LoadAsync"/> loads a model.</summary>
public sealed class LlamaModelOptions
{
    /// <summary>
    /// Gets or sets how many layers to offload to the GPU: 0 keeps everything on the CPU, a negative value
    /// offloads every layer. Default: -1 (all layers, llama.cpp's default; without a GPU this has no effect).
    /// </summary>
    public int GpuLayerCount { get; set; } = -1;

    /// <summary>Gets or sets the GPU used for the whole model when <see cref="SplitMode"/> is <see cref="LlamaSplitMode.None"/>. Default: 0.</summary>
    public int MainGpu { get; set; }

    /// <summary>Gets or sets how the model is spread over several GPUs. Default: <see cref="LlamaSplitMode.Layer"/>.</summary>
    public LlamaSplitMode SplitMode { get; set; } = LlamaSplitMode.Layer;

    /// <summary>Gets or sets a value indicating whether the file is memory-mapped rather than read into memory. Default: true.</summary>
    public bool UseMemoryMap { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the weights are locked in RAM so the OS cannot swap them out. Default: false.</summary>
    public bool LockMemory { get; set; }

    /// <summary>Gets or sets a value indicating whether only the vocabulary is loaded (tokenizer only, no weights). Default: false.</summary>
    public bool VocabularyOnly { get; set; }

    /// <summary>Gets or sets a value indicating whether tensor data is validated while loading (slower). Default: false.</summary>
    public bool ValidateTensors { get; set; }

    /// <summary>
    /// Gets or sets where the load's warnings go: values in the file that llama.cpp accepts but that look wrong (a
    /// trained context length of 0, a special token id outside the vocabulary, token scores that are not numbers),
    /// under the category <c>LocalLlm.LlamaModel</c>. Default: null, the logger factory given to the backend.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets how an <c>hf:</c> or <c>https://</c> model reference is fetched (hub, cache folder, token, offline
    /// mode, retries). Default: null, the defaults read from the environment as llama.cpp reads them.
    /// </summary>
    public LlamaModelDownloadOptions? Download { get; set; }

    /// <summary>Gets or sets what receives download progress when the model is fetched first. Default: null.</summary>
    public IProgress<LlamaDownloadProgress>? DownloadProgress { get; set; }

    /// <summary>Checks that every value is in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    public void Validate()
    {
        Download?.Validate();
        if (MainGpu < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MainGpu), MainGpu, $"{nameof(MainGpu)} must be 0 or greater, but was {MainGpu}.");
        }

        if (!Enum.IsDefined(SplitMode))
        {
            throw new ArgumentOutOfRangeException(nameof(SplitMode), SplitMode, $"{nameof(SplitMode)} {(int)SplitMode} is not a defined {nameof(LlamaSplitMode)}.");
        }
    }
}
