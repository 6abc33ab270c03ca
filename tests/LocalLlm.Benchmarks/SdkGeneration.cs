using System.Diagnostics;

namespace LocalLlm.Benchmarks;

/// <summary>Times a completion through the SDK's public streaming API, as an application would consume it.</summary>
internal static class SdkGeneration
{
    public static async Task<RunMeasurement> RunAsync(LlamaSession session, int[] prompt, int maxTokens, int[] generated, long[] timestamps)
    {
        session.Reset();
        var options = new LlamaGenerationOptions { MaxTokens = maxTokens, Sampling = LlamaSamplingOptions.Greedy };
        int count = 0;
        long first = 0;
        long last = 0;
        long allocatedBefore = 0;
        long allocatedAfter = 0;
        int gen0 = 0;
        LlamaUsage? usage = null;
        LlamaFinishReason? reason = null;

        long start = Stopwatch.GetTimestamp();
        await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, options).ConfigureAwait(false))
        {
            if (update.TokenId is { } token)
            {
                long now = Stopwatch.GetTimestamp();
                timestamps[count] = now;
                generated[count++] = token;
                if (count == 1)
                {
                    first = now;
                    gen0 = GC.CollectionCount(0);
                    allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                }

                last = now;
                if (count == maxTokens)
                {
                    allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
                }
            }

            if (update.FinishReason is { } finish)
            {
                reason = finish;
                usage = update.Usage;
                if (allocatedAfter == 0)
                {
                    // Ended early (end of generation): the final update is counted too.
                    last = Stopwatch.GetTimestamp();
                    allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
                }
            }
        }

        if (count == 0 || usage is null)
        {
            throw new InvalidOperationException($"The SDK generated {count} tokens and finished with {reason?.ToString() ?? "no final update"}.");
        }

        return new RunMeasurement
        {
            PromptTokens = prompt.Length,
            GeneratedTokens = count,
            StoppedAtEndOfGeneration = reason == LlamaFinishReason.Stop,
            PromptMilliseconds = Stopwatch.GetElapsedTime(start, first).TotalMilliseconds,
            GenerationMilliseconds = Stopwatch.GetElapsedTime(first, last).TotalMilliseconds,
            GenerationAllocatedBytes = allocatedAfter - allocatedBefore,
            MedianStepMicroseconds = RunMeasurement.MedianStep(timestamps.AsSpan(0, count)),
            Gen0Collections = GC.CollectionCount(0) - gen0,
            ReportedPromptMilliseconds = usage.PromptEvaluationTime.TotalMilliseconds,
            ReportedGenerationMilliseconds = usage.GenerationTime.TotalMilliseconds,
        };
    }
}
