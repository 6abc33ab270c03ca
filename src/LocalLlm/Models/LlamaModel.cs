using LocalLlm.Native;
using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>
/// A GGUF model loaded into memory: its weights, metadata and tokenizer. Load one with <see cref="LoadAsync"/>.
/// </summary>
/// <remarks>
/// A model is immutable once loaded and safe to use from several threads at once; inference contexts created
/// from it keep its native memory alive until they are disposed too. Dispose the model to free its memory;
/// disposal is idempotent, and any use afterwards throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed partial class LlamaModel : IDisposable
{
    private const string LoggerCategory = "LocalLlm.LlamaModel";
    private readonly SafeLlamaModelHandle _handle;
    private bool _disposed;

    private LlamaModel(SafeLlamaModelHandle handle, string path, LlamaModelOptions options)
    {
        _handle = handle;
        Path = path;
        Options = options;
        Metadata = LlamaModelMetadata.Read(handle);
        Tokenizer = new LlamaTokenizer(this);
    }

    /// <summary>Gets the full path the model was loaded from.</summary>
    public string Path { get; }

    /// <summary>Gets the options the model was loaded with.</summary>
    public LlamaModelOptions Options { get; }

    /// <summary>Gets the model's metadata: architecture, sizes, chat template and every scalar key.</summary>
    public LlamaModelMetadata Metadata { get; }

    /// <summary>Gets the model's tokenizer.</summary>
    public LlamaTokenizer Tokenizer { get; }

    /// <summary>Gets a value indicating whether the model has been disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed);

    internal SafeLlamaModelHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _handle;
        }
    }

    /// <summary>Loads a GGUF model.</summary>
    /// <param name="path">The path of the <c>.gguf</c> file.</param>
    /// <param name="options">How to load it; null for the defaults.</param>
    /// <param name="progress">Receives the loading progress from 0 to 1; may be null.</param>
    /// <param name="cancellationToken">Stops the load while llama.cpp reads the weights.</param>
    /// <returns>The loaded model.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    /// <exception cref="Gguf.GgufFormatException">The file is not a well-formed GGUF (empty, foreign, truncated, unsupported version).</exception>
    /// <exception cref="LlamaModelLoadException">The file could not be loaded; <see cref="LlamaModelLoadException.Failure"/> says why.</exception>
    /// <exception cref="LlamaNativeLibraryException">The llama.cpp libraries could not be loaded.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<LlamaModel> LoadAsync(
        string path,
        LlamaModelOptions? options = null,
        IProgress<float>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new LlamaModelOptions();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        if (LlamaModelReference.Parse(path) is { IsRemote: true } reference)
        {
            return LoadReferenceAsync(reference, options, progress, cancellationToken);
        }

        string fullPath = ModelFileCheck.Validate(path, LoadLogger(options));
        NativeLibraryLoader.EnsureInitialized();

        // llama_model_load_from_file blocks for as long as the weights take to read: it gets a thread of its own.
        return Task.Factory.StartNew(
            () => Load(fullPath, options, progress, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);
    }

    // An hf: or https:// reference is fetched into the hub cache first (or found there), then loaded from disk.
    private static async Task<LlamaModel> LoadReferenceAsync(LlamaModelReference reference, LlamaModelOptions options, IProgress<float>? progress, CancellationToken cancellationToken) =>
        await LoadAsync(await ResolvePathAsync(reference, options, cancellationToken).ConfigureAwait(false), options, progress, cancellationToken).ConfigureAwait(false);

    /// <summary>The file a model reference names on disk: a path as it is, an hf: or https:// reference once fetched (with the options' download settings and progress).</summary>
    internal static async Task<string> ResolvePathAsync(LlamaModelReference reference, LlamaModelOptions options, CancellationToken cancellationToken)
    {
        if (!reference.IsRemote)
        {
            return reference.LocalPath!;
        }

        using var downloader = new LlamaModelDownloader(options.Download);
        return (await downloader.ResolveAsync(reference, options.DownloadProgress, cancellationToken).ConfigureAwait(false)).ModelPath;
    }

    private static ILogger LoadLogger(LlamaModelOptions options) =>
        options.LoggerFactory?.CreateLogger(LoggerCategory) ?? NativeLog.CreateLogger(LoggerCategory);

    /// <summary>Frees the model's native memory once no context uses it any more. Idempotent.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            Volatile.Write(ref _disposed, true);
            _handle.Dispose();
        }
    }

    /// <summary>Keeps the native model alive for the duration of a native call that uses a raw pointer into it.</summary>
    internal HandleLease Lease()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new HandleLease(_handle);
    }

    private static LlamaModel Load(string fullPath, LlamaModelOptions options, IProgress<float>? progress, CancellationToken cancellationToken)
    {
        var state = new LoadState(progress, cancellationToken);
        OffloadDevices? offload = options.RpcServers.Count > 0 || options.TensorSplit.Count > 0
            ? OffloadDevices.Choose(fullPath, options, cancellationToken)
            : null;
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        using NativeLog.PlacementCapture placement = NativeLog.CapturePlacement();
        var settings = new NativeModelSettings(
            options.GpuLayerCount,
            options.MainGpu,
            (int)options.SplitMode,
            options.UseMemoryMap,
            options.LockMemory,
            options.VocabularyOnly,
            options.ValidateTensors,
            options.RepackWeights);
        SafeLlamaModelHandle handle = SafeLlamaModelHandle.Load(fullPath, settings, state.Continue, offload?.Devices, options.TensorSplit.Count > 0 ? [.. options.TensorSplit] : null);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw ModelFileCheck.DescribeNativeFailure(fullPath, errors.Lines);
        }

        var model = new LlamaModel(handle, fullPath, options) { LayerDevices = OffloadDevices.ReadPlacement(placement.Lines, offload) };
        ILogger logger = LoadLogger(options);
        // Only a placement beyond this CPU is news; a CPU-only load would log the same line every time.
        if (model.LayerDevices.Any(device => device != "CPU") && logger.IsEnabled(LogLevel.Information))
        {
            string file = System.IO.Path.GetFileName(fullPath);
            string placed = OffloadDevices.Describe(model.LayerDevices);
            LogPlacement(logger, file, placed);
        }

        return model;
    }

    /// <summary>
    /// Gets the device each layer was placed on, by index, the output layer last: <c>CPU</c>, a local GPU's ggml name
    /// (<c>CUDA0</c>), or an RPC worker's device as <c>host:port#index</c>. Empty for a vocabulary-only model.
    /// </summary>
    public IReadOnlyList<string> LayerDevices { get; private init; } = [];

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Model {Model} placed its layers: {Placement}")]
    private static partial void LogPlacement(ILogger logger, string model, string placement);

    private sealed record LoadState(IProgress<float>? Progress, CancellationToken CancellationToken)
    {
        /// <summary>Reports loading progress; returns false to stop the load once the caller has cancelled.</summary>
        public bool Continue(float progress)
        {
            if (CancellationToken.IsCancellationRequested)
            {
                return false;
            }

            Progress?.Report(progress);
            return !CancellationToken.IsCancellationRequested;
        }
    }

    /// <summary>Refuses a model llama.cpp would abort on or "complete" with nothing: no weights, no decoder, or an embedding model.</summary>
    /// <exception cref="NotSupportedException">The model cannot generate text.</exception>
    internal void ThrowIfCannotGenerate(string owner)
    {
        LlamaModelMetadata metadata = Metadata;
        string? reason = Options.VocabularyOnly ? "was loaded with VocabularyOnly, so it has no weights"
            : !metadata.HasDecoder ? "has no decoder (an embedding model?)"
            : metadata.HasEncoder ? "is an encoder-decoder model"
            : Tokenizer.VocabularyType == LlamaVocabularyType.None ? "has no vocabulary (tokenizer.ggml.model is 'none')"
            : metadata.Entries.GetValueOrDefault($"{metadata.Architecture}.attention.causal") == "false" ? "is an embedding model (its attention is not causal); use LlamaEmbeddingGenerator"
            : null;
        if (reason is not null)
        {
            throw new NotSupportedException($"Model '{Path}' ({metadata.Architecture}) cannot generate text with a {owner}: it {reason}.");
        }
    }
}
