using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// One completion inside an <see cref="InferenceEngine"/>: its prompt, its own sampler chain, stop state and
/// log-probability reader, and the channel its caller reads. Touched only by the engine's loop once admitted.
/// </summary>
internal sealed class GenerationRequest : IDisposable
{
    private readonly CompletionText _text;
    private readonly long _enqueued = Stopwatch.GetTimestamp();
    private readonly TaskCompletionSource _retired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _abandoned;
    private long _promptStart;
    private long _generationStart;
    private int _cachedPromptTokens;
    private NativeSampler? _sampler;
    private LogProbabilityReader? _logProbabilities;

    public GenerationRequest(int[] prompt, LlamaGenerationOptions options, CancellationToken cancellationToken)
    {
        Prompt = prompt;
        Options = options;
        CancellationToken = cancellationToken;
        _text = new CompletionText(options);
        Adapters = LoraSet.For(options.Adapters);
        if (options.Speculation is not null)
        {
            History = [.. prompt];
            Draft = new int[options.Speculation.MaxDraftTokens];
            DraftRows = new int[options.Speculation.MaxDraftTokens];
        }
    }

    /// <summary>The prompt and the tokens generated so far, for prompt-lookup drafting; null without speculation.</summary>
    public List<int>? History { get; }

    /// <summary>This step's draft (the first <see cref="DraftLength"/> entries) and the batch rows that score it.</summary>
    public int[] Draft { get; } = [];

    public int[] DraftRows { get; } = [];

    public int DraftLength { get; set; }

    private int DraftedTokens { get; set; }

    private int AcceptedDraftTokens { get; set; }

    /// <summary>
    /// The longest draft worth proposing next: halved after a draft the model kept nothing of, doubled (up to the
    /// maximum) after one it kept whole, so a reply that stops repeating its context stops paying for long drafts.
    /// </summary>
    public int DraftBudget { get; private set; } = int.MaxValue;

    /// <summary>Counts a step's draft: how many tokens it proposed and how many the model kept.</summary>
    public void RecordDraft(int drafted, int accepted)
    {
        DraftedTokens += drafted;
        AcceptedDraftTokens += accepted;
        int current = Math.Min(DraftBudget, Draft.Length);
        DraftBudget = accepted == 0 ? Math.Max(1, current / 2) : accepted == drafted ? Math.Min(Draft.Length, current * 2) : current;
    }

    /// <summary>The LoRA adapters the request applies (held until it is disposed).</summary>
    public LoraSet Adapters { get; }

    public int[] Prompt { get; }

    public LlamaGenerationOptions Options { get; }

    public CancellationToken CancellationToken { get; }

    // Readers continue inline on the engine's loop thread (see InferenceLoopThread), which writes only through
    // InferenceLoopThread.Deliver.
    public Channel<LlamaGenerationUpdate> Updates { get; } =
        Channel.CreateUnbounded<LlamaGenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });

    /// <summary>Completes once the engine has let go of the request and its sequence (finished, failed or cancelled).</summary>
    public Task Retired => _retired.Task;

    /// <summary>Gets why the request ended (<see cref="LlamaFinishReason.Cancelled"/> when it was cancelled), or null while it runs or when it failed.</summary>
    public LlamaFinishReason? FinishReason { get; private set; }

    /// <summary>Gets what the request cost, once it finished.</summary>
    public LlamaUsage? Usage { get; private set; }

    /// <summary>The sequence id while admitted, -1 while queued or after it finished.</summary>
    public int Sequence { get; set; } = -1;

    /// <summary>How many prompt tokens are in the KV cache.</summary>
    public int PromptEvaluated { get; set; }

    public bool Prefilling => PromptEvaluated < Prompt.Length;

    /// <summary>Prompt tokens this step's batch evaluates for the request.</summary>
    public int PromptChunk { get; set; }

    /// <summary>Gets a value indicating whether the caller cancelled or stopped reading.</summary>
    public bool IsCancelled => _abandoned || CancellationToken.IsCancellationRequested;

    /// <summary>The caller stopped reading before the end: the engine drops the request at its next step.</summary>
    public void Abandon() => _abandoned = true;

    /// <summary>The token sampled last step, decoded this step.</summary>
    public int PendingToken { get; set; } = -1;

    /// <summary>The batch row whose logits this request samples from after the current decode, or -1.</summary>
    public int OutputRow { get; set; } = -1;

    private int Generated { get; set; }

    /// <summary>Takes <paramref name="sequence"/>, which already holds the prompt's first <paramref name="cachedPromptTokens"/> tokens, and the sampler chain it owns from here on.</summary>
    public void Admit(int sequence, int cachedPromptTokens, NativeSampler sampler, LlamaTokenizer tokenizer)
    {
        Sequence = sequence;
        PromptEvaluated = cachedPromptTokens;
        _cachedPromptTokens = cachedPromptTokens;
        _sampler = sampler;
        _logProbabilities = Options.LogProbabilities || Options.TopLogProbabilities > 0
            ? new LogProbabilityReader(tokenizer, Options.TopLogProbabilities)
            : null;
        _promptStart = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Samples the request's next token from its <see cref="OutputRow"/> of the context's last decode and queues its
    /// text; returns the finish reason when the request is done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public LlamaFinishReason? SampleAndAccept(SafeLlamaContextHandle context, LlamaTokenizer tokenizer, Span<byte> piece, InferenceLoopThread delivery)
    {
        int row = OutputRow;
        int token = _sampler!.Sample(context, row);
        OutputRow = -1;
        if (Generated == 0)
        {
            _generationStart = Stopwatch.GetTimestamp();
        }

        if (tokenizer.IsEndOfGeneration(token))
        {
            return LlamaFinishReason.Stop;
        }

        Generated++;
        History?.Add(token);
        string text = _text.Append(token, tokenizer, piece);
        float? logProbability = null;
        IReadOnlyList<LlamaTokenProbability>? top = null;
        if (_logProbabilities is not null)
        {
            logProbability = _logProbabilities.Read(context.GetLogits(row, tokenizer.VocabularySize), token, out top);
        }

        delivery.Enqueue(this, Updates.Writer, new LlamaGenerationUpdate { Text = text, TokenId = token, LogProbability = logProbability, TopLogProbabilities = top });
        if (_text.Stopped)
        {
            return LlamaFinishReason.Stop;
        }

        if (Generated == Options.MaxTokens)
        {
            return LlamaFinishReason.Length;
        }

        PendingToken = token;
        return null;
    }

    public void Finish(LlamaFinishReason reason, InferenceLoopThread delivery)
    {
        string rest = _text.Flush();
        TimeSpan promptTime = _generationStart == 0 ? Stopwatch.GetElapsedTime(_promptStart) : Stopwatch.GetElapsedTime(_promptStart, _generationStart);
        Usage = new LlamaUsage
        {
            PromptTokens = Prompt.Length,
            CachedPromptTokens = _cachedPromptTokens,
            GeneratedTokens = Generated,
            PromptEvaluationTime = promptTime,
            GenerationTime = _generationStart == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_generationStart),
            TimeToFirstToken = _generationStart == 0 ? null : Stopwatch.GetElapsedTime(_enqueued, _generationStart),
            DraftTokens = DraftedTokens,
            AcceptedDraftTokens = AcceptedDraftTokens,
        };
        FinishReason = reason;
        LlamaMetrics.RequestFinished(reason switch { LlamaFinishReason.Stop => "stop", LlamaFinishReason.Length => "length", LlamaFinishReason.Cancelled => "cancelled", _ => "contextfull" }, Usage);
        delivery.Enqueue(this, Updates.Writer, new LlamaGenerationUpdate { Text = rest, FinishReason = reason, Usage = Usage }, complete: true);
    }

    public void Fail(Exception exception, InferenceLoopThread delivery)
    {
        if (exception is OperationCanceledException)
        {
            FinishReason = LlamaFinishReason.Cancelled;
        }

        LlamaMetrics.RequestFinished(exception is OperationCanceledException ? "cancelled" : "error", usage: null);

        delivery.Enqueue(this, Updates.Writer, update: null, complete: true, exception);
    }

    /// <summary>Frees the sampler chain and tells whoever waits that the engine is done with the request.</summary>
    public void Dispose()
    {
        _sampler?.Dispose();
        Adapters.Dispose();
        _retired.TrySetResult();
    }
}
