using System.Diagnostics;
using System.Threading.Channels;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// One request inside a <see cref="LlamaScheduler"/>: its prompt, its own sampler chain and stop state, and the
/// channel its caller reads. Touched only by the scheduler's worker thread once admitted.
/// </summary>
internal sealed class ScheduledRequest : IDisposable
{
    private readonly CompletionText _text;
    private readonly long _enqueued = Stopwatch.GetTimestamp();
    private volatile bool _abandoned;
    private long _promptStart;
    private long _generationStart;
    private int _cachedPromptTokens;
    private readonly List<int> _generatedTokens = [];
    private NativeSampler? _sampler;

    public ScheduledRequest(int[] prompt, LlamaGenerationOptions options, CancellationToken cancellationToken)
    {
        Prompt = prompt;
        Options = options;
        CancellationToken = cancellationToken;
        _text = new CompletionText(options);
    }

    public int[] Prompt { get; }

    public LlamaGenerationOptions Options { get; }

    public CancellationToken CancellationToken { get; }

    // Readers continue inline on the scheduler's loop thread (see SchedulerLoopThread), which writes only through
    // SchedulerLoopThread.Deliver.
    public Channel<LlamaGenerationUpdate> Updates { get; } =
        Channel.CreateUnbounded<LlamaGenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });

    /// <summary>The sequence id while admitted, -1 while queued or after it finished.</summary>
    public int Sequence { get; set; } = -1;

    /// <summary>How many prompt tokens are in the KV cache.</summary>
    public int PromptEvaluated { get; set; }

    public bool Prefilling => PromptEvaluated < Prompt.Length;

    /// <summary>Gets a value indicating whether the caller cancelled or stopped reading.</summary>
    public bool IsCancelled => _abandoned || CancellationToken.IsCancellationRequested;

    /// <summary>The caller stopped reading before the end: the scheduler drops the request at its next step.</summary>
    public void Abandon() => _abandoned = true;

    /// <summary>The token sampled last step, decoded this step.</summary>
    public int PendingToken { get; set; } = -1;

    /// <summary>The batch row whose logits this request samples from after the current decode, or -1.</summary>
    public int OutputRow { get; set; } = -1;

    public int Generated { get; private set; }

    /// <summary>Tokens this sequence holds in the KV cache.</summary>
    public int Position => PromptEvaluated + Math.Max(0, Generated - 1) - Shifted;

    /// <summary>How many of this sequence's tokens context shifts have dropped.</summary>
    public int Shifted { get; set; }

    /// <summary>Time from submission to the first generated token.</summary>
    public TimeSpan? TimeToFirstToken { get; private set; }

    /// <summary>Gives the request its sampler chain, which it owns from here on.</summary>
    public void UseSampler(NativeSampler sampler) => _sampler = sampler;

    /// <summary>Samples the request's next token from its <see cref="OutputRow"/> of the context's last decode.</summary>
    public int Sample(SafeLlamaContextHandle context) => _sampler!.Sample(context, OutputRow);

    /// <summary>Takes <paramref name="sequence"/>, which already holds the prompt's first <paramref name="cachedPromptTokens"/> tokens.</summary>
    public void MarkAdmitted(int sequence, int cachedPromptTokens)
    {
        Sequence = sequence;
        PromptEvaluated = cachedPromptTokens;
        _cachedPromptTokens = cachedPromptTokens;
        _promptStart = Stopwatch.GetTimestamp();
    }

    /// <summary>Handles a sampled token; returns the finish reason when the request is done.</summary>
    public LlamaFinishReason? Accept(int token, LlamaTokenizer tokenizer, Span<byte> piece, SchedulerLoopThread delivery)
    {
        if (Generated == 0)
        {
            _generationStart = Stopwatch.GetTimestamp();
            TimeToFirstToken = Stopwatch.GetElapsedTime(_enqueued);
        }

        if (tokenizer.IsEndOfGeneration(token))
        {
            return LlamaFinishReason.Stop;
        }

        Generated++;
        _generatedTokens.Add(token);
        string text = _text.Append(token, tokenizer, piece);
        delivery.Enqueue(Updates.Writer, new LlamaGenerationUpdate { Text = text, TokenId = token });
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

    public void Finish(LlamaFinishReason reason, SchedulerLoopThread delivery)
    {
        string rest = _text.Flush();
        TimeSpan promptTime = _generationStart == 0 ? Stopwatch.GetElapsedTime(_promptStart) : Stopwatch.GetElapsedTime(_promptStart, _generationStart);
        var usage = new LlamaUsage
        {
            PromptTokens = Prompt.Length,
            CachedPromptTokens = _cachedPromptTokens,
            GeneratedTokens = Generated,
            PromptEvaluationTime = promptTime,
            GenerationTime = _generationStart == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_generationStart),
            TimeToFirstToken = TimeToFirstToken,
        };
        delivery.Enqueue(Updates.Writer, new LlamaGenerationUpdate { Text = rest, FinishReason = reason, Usage = usage }, complete: true);
    }

    /// <summary>The first <paramref name="count"/> tokens of the prompt followed by the generated ones.</summary>
    public int[] FirstTokens(int count) => [.. Prompt.Concat(_generatedTokens).Take(count)];

    public void Fail(Exception exception, SchedulerLoopThread delivery) => delivery.Enqueue(Updates.Writer, update: null, complete: true, exception);

    public void Dispose() => _sampler?.Dispose();
}
