using System.ComponentModel.DataAnnotations;

namespace LocalLlm;

/// <summary>
/// One model registered with <c>AddLocalLlm</c>: where it is, how to load it, and how its chat client runs.
/// Validated when the host starts; an invalid value stops start-up with a message naming the setting.
/// </summary>
public sealed class LocalLlmOptions
{
    /// <summary>The configuration section <c>AddLocalLlm(IConfiguration)</c> conventionally binds: <c>LocalLlm</c>.</summary>
    public const string SectionName = "LocalLlm";

    /// <summary>
    /// Gets or sets the model: a GGUF file's path, <c>hf:owner/repo[:quant][@revision]</c>, <c>hf:owner/repo/file.gguf</c>
    /// or an <c>https://</c> address (fetched into the Hugging Face cache on warm-up or first use, with progress in the
    /// log). Required.
    /// </summary>
    [Required]
    public string ModelPath { get; set; } = string.Empty;

    /// <summary>Gets or sets how many layers to offload to the GPU; -1 offloads all (no effect without a GPU backend). Default: -1.</summary>
    [Range(-1, int.MaxValue)]
    public int GpuLayerCount { get; set; } = -1;

    /// <summary>
    /// Gets or sets llama.cpp RPC workers (<c>host:port</c>) that take part of the model: the <see cref="GpuLayerCount"/>
    /// last layers are shared among them and the local GPUs (see <see cref="LlamaModelOptions.RpcServers"/>). Needs the
    /// LocalLlm.Backend.Rpc package. Default: none.
    /// </summary>
    public IList<string> RpcServers { get; set; } = [];

    /// <summary>Gets or sets each offload device's share of the offloaded layers: the workers' devices, then the local GPUs (see <see cref="LlamaModelOptions.TensorSplit"/>). Default: empty, by free memory.</summary>
    public IList<float> TensorSplit { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the model file is memory-mapped. Default: true.</summary>
    public bool UseMemoryMap { get; set; } = true;

    /// <summary>Gets or sets the context window in tokens. Default: null, the smaller of the model's trained length and 4096.</summary>
    [Range(16, 1 << 24)]
    public int? ContextSize { get; set; }

    /// <summary>Gets or sets the threads used for generation. Default: null, the number of physical cores.</summary>
    [Range(1, 1024)]
    public int? ThreadCount { get; set; }

    /// <summary>
    /// Gets or sets whether generation uses fewer threads while other processes keep cores busy (see
    /// <see cref="LlamaContextOptions.AdaptThreadsToLoad"/>). Default: true.
    /// </summary>
    public bool AdaptThreadsToLoad { get; set; } = true;

    /// <summary>
    /// Gets or sets the model id that responses, embeddings and the clients' metadata report (and so OpenTelemetry's
    /// <c>gen_ai.request.model</c>), known before the model loads. Default: null, the model file's name without extension.
    /// </summary>
    public string? ModelId { get; set; }

    /// <summary>Gets or sets a built-in chat template name overriding the model's own (text only: no tools, no reasoning). Default: null.</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Gets or sets a Jinja chat template overriding the model's own. Default: null.</summary>
    public string? ChatTemplateText { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a model without a chat template stops the chat client with an error
    /// instead of falling back to ChatML with a warning. Default: false.
    /// </summary>
    public bool RequireModelTemplate { get; set; }

    /// <summary>Gets or sets the most tokens a reply may spend reasoning; null for no limit. Default: null.</summary>
    [Range(0, int.MaxValue)]
    public int? ReasoningBudget { get; set; }

    /// <summary>Gets or sets what the chat client does when a conversation outgrows the context. Default: <see cref="LlamaChatHistoryPolicy.DropOldest"/>.</summary>
    public LlamaChatHistoryPolicy HistoryPolicy { get; set; } = LlamaChatHistoryPolicy.DropOldest;

    /// <summary>Gets or sets the reply length when a request sets no maximum. Default: 512.</summary>
    [Range(1, int.MaxValue)]
    public int DefaultMaxOutputTokens { get; set; } = 512;

    /// <summary>
    /// Gets or sets how many chat requests generate at once with continuous batching. Default: 1 (one at a time, with
    /// KV-cache reuse across turns).
    /// </summary>
    [Range(1, 256)]
    public int ParallelSequences { get; set; } = 1;

    /// <summary>
    /// Gets or sets a value indicating whether the model is fitted to the machine before it loads: the layers to offload
    /// (when <see cref="GpuLayerCount"/> is left at -1) and each sequence's context (when <see cref="ContextSize"/> is
    /// unset) are chosen so every device keeps <see cref="FitMarginBytes"/> free, as llama-server's <c>--fit</c> does
    /// (see <see cref="LlamaModel.PlanFit"/>). A model that cannot fit fails before anything is allocated, with
    /// <see cref="LlamaModelLoadFailure.InsufficientMemory"/>. Default: false.
    /// </summary>
    public bool FitToMemory { get; set; }

    /// <summary>Gets or sets the smallest context per sequence <see cref="FitToMemory"/> may choose (llama-server's <c>--fit-ctx</c>). Default: 4096, or the trained length when shorter.</summary>
    [Range(16, 1 << 24)]
    public int FitMinimumContextSize { get; set; } = 4096;

    /// <summary>Gets or sets the memory <see cref="FitToMemory"/> leaves free on every device. Default: 1 GiB.</summary>
    [Range(0, long.MaxValue)]
    public long FitMarginBytes { get; set; } = 1L << 30;

    /// <summary>Gets or sets how many chat requests may wait beyond <see cref="ParallelSequences"/>. Default: 64.</summary>
    [Range(1, 1 << 20)]
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Gets or sets what a chat request does when the queue is full: wait, or fail with <see cref="LlamaQueueFullException"/>. Default: wait.</summary>
    public LlamaQueueFullBehavior QueueFullBehavior { get; set; } = LlamaQueueFullBehavior.Wait;

    /// <summary>Gets or sets a value indicating whether the model loads while the host starts rather than on first use. Default: false.</summary>
    public bool WarmUp { get; set; }

    /// <summary>Gets or sets the folder holding the llama.cpp libraries. Default: null, the application's <c>runtimes/&lt;rid&gt;/native</c>.</summary>
    public string? NativeLibraryDirectory { get; set; }

    internal LlamaBackendOptions ToBackendOptions(Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory) =>
        new() { LoggerFactory = loggerFactory, NativeLibraryDirectory = NativeLibraryDirectory };

    internal LlamaModelOptions ToModelOptions(Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory) => new()
    {
        GpuLayerCount = GpuLayerCount,
        RpcServers = [.. RpcServers],
        TensorSplit = [.. TensorSplit],
        UseMemoryMap = UseMemoryMap,
        LoggerFactory = loggerFactory,
        DownloadProgress = loggerFactory is null ? null : new DownloadProgressLog(loggerFactory.CreateLogger("LocalLlm.Download")),
    };

    internal LlamaEmbeddingOptions ToEmbeddingOptions() => new() { ContextSize = ContextSize, ThreadCount = ThreadCount, ModelId = ModelId };

    internal LlamaChatClientOptions ToChatClientOptions() => new()
    {
        Context = new LlamaContextOptions { ContextSize = ContextSize, ThreadCount = ThreadCount, AdaptThreadsToLoad = AdaptThreadsToLoad },
        TemplateName = ChatTemplate,
        TemplateText = ChatTemplateText,
        RequireModelTemplate = RequireModelTemplate,
        ReasoningBudget = ReasoningBudget,
        ModelId = ModelId,
        HistoryPolicy = HistoryPolicy,
        DefaultMaxOutputTokens = DefaultMaxOutputTokens,
        ParallelSequences = ParallelSequences,
        MaxQueuedRequests = MaxQueuedRequests,
        QueueFullBehavior = QueueFullBehavior,
    };
}
