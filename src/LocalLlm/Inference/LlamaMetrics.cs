using System.Diagnostics.Metrics;

namespace LocalLlm;

/// <summary>
/// The SDK's <see cref="Meter"/>: requests, prompt and generated tokens, time to first token, generation rate and queue
/// depth of every session, scheduler and chat client in the process. Export it with OpenTelemetry
/// (<c>AddMeter(LlamaMetrics.MeterName)</c>) or read it with <c>dotnet-counters monitor -n app LocalLlm</c>.
/// </summary>
/// <remarks>
/// Instruments: <c>localllm.requests</c> (finished requests, tagged <c>finish_reason</c>: stop, length, contextfull, cancelled, error), <c>localllm.prompt_tokens</c>
/// and <c>localllm.generated_tokens</c> (tagged <c>cached</c> for prompt tokens served from the KV cache),
/// <c>localllm.time_to_first_token</c> (s), <c>localllm.generation_rate</c> (tokens/s per request), and
/// <c>localllm.queue_depth</c> (requests waiting for a sequence) and <c>localllm.kv_cells_used</c> (KV-cache cells
/// holding tokens). Recorded once per request, but for the cells, which change with every decode (one add each).
/// </remarks>
public static class LlamaMetrics
{
    /// <summary>The meter's name, <c>LocalLlm</c>.</summary>
    public const string MeterName = "LocalLlm";

    // Instruments are the process's sinks for measurements, not state: they hold nothing a caller reads back.
    private static readonly Meter Meter = new(MeterName, typeof(LlamaMetrics).Assembly.GetName().Version?.ToString());
    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("localllm.requests", "{request}", "Requests that finished, by finish reason.");
    private static readonly Counter<long> PromptTokens = Meter.CreateCounter<long>("localllm.prompt_tokens", "{token}", "Prompt tokens of finished requests; cached=true for those the KV cache already held.");
    private static readonly Counter<long> GeneratedTokens = Meter.CreateCounter<long>("localllm.generated_tokens", "{token}", "Tokens generated.");
    private static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>("localllm.time_to_first_token", "s", "From a request's arrival to its first generated token, queue wait included.");
    private static readonly Histogram<double> GenerationRate = Meter.CreateHistogram<double>("localllm.generation_rate", "{token}/s", "Each request's generation speed after its first token.");
    private static readonly UpDownCounter<long> QueueDepth = Meter.CreateUpDownCounter<long>("localllm.queue_depth", "{request}", "Requests waiting for a free sequence.");
    private static readonly UpDownCounter<long> KvCellsUsed = Meter.CreateUpDownCounter<long>("localllm.kv_cells_used", "{cell}", "KV-cache cells holding tokens, in every context (kept prompts included).");

    internal static void RequestQueued() => QueueDepth.Add(1);

    internal static void KvCellsChanged(long delta)
    {
        if (delta != 0)
        {
            KvCellsUsed.Add(delta);
        }
    }

    internal static void RequestDequeued() => QueueDepth.Add(-1);

    internal static void RequestFinished(string finishReason, LlamaUsage? usage)
    {
        Requests.Add(1, new KeyValuePair<string, object?>("finish_reason", finishReason));
        if (usage is null)
        {
            return;
        }

        PromptTokens.Add(usage.EvaluatedPromptTokens, new KeyValuePair<string, object?>("cached", false));
        PromptTokens.Add(usage.CachedPromptTokens, new KeyValuePair<string, object?>("cached", true));
        GeneratedTokens.Add(usage.GeneratedTokens);
        if (usage.TimeToFirstToken is { } first)
        {
            TimeToFirstToken.Record(first.TotalSeconds);
        }

        if (usage.GeneratedTokens > 1 && usage.GenerationTime > TimeSpan.Zero)
        {
            GenerationRate.Record(usage.GenerationTokensPerSecond);
        }
    }
}
