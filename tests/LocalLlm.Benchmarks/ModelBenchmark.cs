using System.Diagnostics;
using System.Text;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Benchmarks;

/// <summary>Runs the SDK and the raw loop on one model, interleaved, with the same prompt and context settings.</summary>
internal static class ModelBenchmark
{
    private const string Passage =
        """
        The lighthouse keeper climbed the spiral stairs an hour before dusk, as he had done every evening for thirty
        years. He trimmed the wick, polished the great lens until it shone, and wrote the weather in the log: wind from
        the south-west, a falling glass, rain coming in from the sea before midnight. Below him the harbour emptied as
        the fishing boats came home, their lamps swinging, their crews calling to one another across the water. When
        the light was lit he sat by the window with a cup of tea and a book about the history of navigation, reading
        how sailors once steered by the stars, by the colour of the water and the flight of birds, long before charts
        and compasses made the coast a little less dangerous. Storms came and went, ships passed safely, and the
        village slept, trusting the beam that swept across the rocks every ten seconds through the long, dark night.
        """;

    /// <summary>The model each name stands for: small and 1b quantized to Q4_0, tiny as generated.</summary>
    public static string EnsureModel(string name, string? directory) => name switch
    {
        "tiny" => GeneratedModels.Ensure(ModelShape.Tiny, directory),
        "small" => GeneratedModels.Ensure(ModelShape.Small, new LlamaCppQuantizer(LlamaQuantizationType.Q4_0), directory),
        "1b" => GeneratedModels.Ensure(ModelShape.OneB, new LlamaCppQuantizer(LlamaQuantizationType.Q4_0), directory),
        _ => throw new ArgumentException($"Unknown model '{name}'.", nameof(name)),
    };

    /// <summary>Exactly <paramref name="count"/> tokens of English text, BOS first when the model adds one.</summary>
    public static int[] BuildPrompt(LlamaTokenizer tokenizer, int count)
    {
        var text = new StringBuilder();
        int[] tokens = [];
        for (int part = 1; tokens.Length < count; part++)
        {
            text.Append("Chapter ").Append(part).Append(". ").Append(Passage).Append('\n');
            tokens = tokenizer.Tokenize(text.ToString(), addSpecial: true);
        }

        return tokens[..count];
    }

    public static async Task<ModelResult> RunAsync(string name, string path, BenchmarkSettings settings, TextWriter log)
    {
        var loadTimer = Stopwatch.StartNew();
        using LlamaModel model = await LlamaModel.LoadAsync(path).ConfigureAwait(false);
        double loadSeconds = loadTimer.Elapsed.TotalSeconds;
        int[] prompt = BuildPrompt(model.Tokenizer, settings.PromptTokens);
        var contextOptions = new LlamaContextOptions
        {
            ContextSize = settings.ContextSize,
            BatchSize = settings.BatchSize,
            MicroBatchSize = settings.MicroBatchSize,
            ThreadCount = settings.Threads,
        };

        using var session = new LlamaSession(model, contextOptions);
        using var raw = new RawGeneration(model, contextOptions);
        int[] sdkTokens = new int[settings.GenerationTokens];
        int[] rawTokens = new int[settings.GenerationTokens];
        long[] sdkStamps = new long[settings.GenerationTokens];
        long[] rawStamps = new long[settings.GenerationTokens];
        int repetitions = name == "tiny" ? settings.TinyRepetitions : settings.Repetitions;
        bool sameTokens = true;

        log.WriteLine($"{name}: {Path.GetFileName(path)} ({model.Metadata.ParameterCount:N0} params, {model.Metadata.FileType}), loaded in {loadSeconds:F1} s; warming up");
        await SdkGeneration.RunAsync(session, prompt, settings.GenerationTokens, sdkTokens, sdkStamps).ConfigureAwait(false);
        raw.Run(prompt, settings.GenerationTokens, rawTokens, rawStamps);

        var sdkRuns = new List<RunMeasurement>();
        var rawRuns = new List<RunMeasurement>();
        for (int rep = 0; rep < repetitions; rep++)
        {
            // Alternate which side goes first so slow drift in the machine's load does not favour one of them, and
            // repeat a pair that other processes disturbed (keeping the least disturbed attempt).
            RunMeasurement sdk = null!;
            RunMeasurement rawRun = null!;
            int discarded = 0;
            for (int attempt = 0; attempt < settings.MaxAttempts; attempt++)
            {
                RunMeasurement sdkAttempt;
                RunMeasurement rawAttempt;
                if (rep % 2 == 0)
                {
                    sdkAttempt = await MeasureSdkAsync(session, prompt, settings, sdkTokens, sdkStamps).ConfigureAwait(false);
                    rawAttempt = MeasureRaw(raw, prompt, settings, rawTokens, rawStamps);
                }
                else
                {
                    rawAttempt = MeasureRaw(raw, prompt, settings, rawTokens, rawStamps);
                    sdkAttempt = await MeasureSdkAsync(session, prompt, settings, sdkTokens, sdkStamps).ConfigureAwait(false);
                }

                double disturbance = Math.Max(sdkAttempt.OthersCpuShare, rawAttempt.OthersCpuShare);
                if (attempt == 0 || disturbance < Math.Max(sdk.OthersCpuShare, rawRun.OthersCpuShare))
                {
                    sdk = sdkAttempt;
                    rawRun = rawAttempt;
                }

                if (disturbance <= settings.MaxOtherLoad)
                {
                    break;
                }

                discarded++;
                log.WriteLine($"  rep {rep + 1}: other processes used {disturbance:P0} of the CPU during the pair; repeating");
            }

            sdk = sdk with { DiscardedAttempts = discarded };
            rawRun = rawRun with { DiscardedAttempts = discarded };
            sameTokens &= sdk.GeneratedTokens == rawRun.GeneratedTokens && sdkTokens.AsSpan(0, sdk.GeneratedTokens).SequenceEqual(rawTokens.AsSpan(0, rawRun.GeneratedTokens));
            sdkRuns.Add(sdk);
            rawRuns.Add(rawRun);
            log.WriteLine(
                $"  rep {rep + 1}/{repetitions}: pp {sdk.PromptTokensPerSecond,8:F1} / {rawRun.PromptTokensPerSecond,8:F1} tok/s, " +
                $"tg {sdk.GenerationTokensPerSecond,8:F1} / {rawRun.GenerationTokensPerSecond,8:F1} tok/s " +
                $"({sdk.MicrosecondsPerToken:F1} / {rawRun.MicrosecondsPerToken:F1} µs/token, median step {sdk.MedianStepMicroseconds:F1} / {rawRun.MedianStepMicroseconds:F1}), " +
                $"{sdk.AllocatedBytesPerToken:F0} / {rawRun.AllocatedBytesPerToken:F0} B/token  (SDK / raw; others used {sdk.OthersCpuShare:P0} / {rawRun.OthersCpuShare:P0} of the CPU)");
        }

        return new ModelResult
        {
            Name = name,
            File = Path.GetFileName(path),
            FileBytes = new FileInfo(path).Length,
            FileType = model.Metadata.FileType,
            ParameterCount = model.Metadata.ParameterCount,
            LoadSeconds = loadSeconds,
            Sdk = sdkRuns,
            Raw = rawRuns,
            SameTokens = sameTokens,
        };
    }

    private static async Task<RunMeasurement> MeasureSdkAsync(LlamaSession session, int[] prompt, BenchmarkSettings settings, int[] tokens, long[] stamps)
    {
        Settle();
        LoadProbe probe = LoadProbe.Start();
        RunMeasurement run = await SdkGeneration.RunAsync(session, prompt, settings.GenerationTokens, tokens, stamps).ConfigureAwait(false);
        return run with { OthersCpuShare = probe.OthersShare() };
    }

    private static RunMeasurement MeasureRaw(RawGeneration raw, int[] prompt, BenchmarkSettings settings, int[] tokens, long[] stamps)
    {
        Settle();
        LoadProbe probe = LoadProbe.Start();
        RunMeasurement run = raw.Run(prompt, settings.GenerationTokens, tokens, stamps);
        return run with { OthersCpuShare = probe.OthersShare() };
    }

    /// <summary>Starts each run with a clean heap, so a collection owed by earlier work does not land in the timing.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
