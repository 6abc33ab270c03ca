using System.Globalization;

namespace LocalLlm.Benchmarks;

/// <summary>The command line: which models, how many repetitions, prompt and generation lengths, threads.</summary>
internal sealed record BenchmarkSettings
{
    public const string Usage =
        """
        Usage: dotnet run -c Release --project tests/LocalLlm.Benchmarks -- [options]
          --models <list>        tiny,small,1b (default: all three; small and 1b run as Q4_0, tiny as generated)
          --reps <n>             timed repetitions per model, SDK and raw interleaved (default 5)
          --tiny-reps <n>        repetitions on tiny, whose runs last ~0.2 s and so need more (default 4 x --reps)
          --prompt-tokens <n>    prompt length in tokens, BOS included (default 512)
          --gen-tokens <n>       tokens to generate (default 128)
          --threads <n>          llama.cpp threads for prompt and generation (default 2)
          --context <n>          context size (default 1024)
          --model-dir <dir>      where generated models are cached (default: <repo>/models/generated)
          --out <dir>            where the JSON goes (default: <repo>/artifacts/bench)
          --max-other-load <f>   repeat a repetition when other processes used more than this share of the CPU
                                 during it (default 0.1; 1 disables), at most 4 attempts, keeping the quietest
          --diagnose             instead: split the SDK's per-token overhead on tiny into its parts (uses --tiny-reps)
          --batched              instead: continuous batching, 1-8 streams (see BatchedBenchmark.cs for its options)
          --grammar              instead: per-token sampling cost with the JSON grammar (see GrammarSamplingBenchmark.cs)
          --chat                 instead: what chat templating and reply parsing add per request and per token (see ChatTemplatingBenchmark.cs)
        """;

    public IReadOnlyList<string> Models { get; init; } = ["tiny", "small", "1b"];

    public int Repetitions { get; init; } = 5;

    public int TinyRepetitions { get; init; } = 20;

    public int PromptTokens { get; init; } = 512;

    public int GenerationTokens { get; init; } = 128;

    public int Threads { get; init; } = 2;

    public int ContextSize { get; init; } = 1024;

    public int BatchSize { get; init; } = 512;

    public int MicroBatchSize { get; init; } = 512;

    public string? ModelDirectory { get; init; }

    public string? OutputDirectory { get; init; }

    public bool Diagnose { get; init; }

    public double MaxOtherLoad { get; init; } = 0.1;

    public int MaxAttempts { get; init; } = 4;

    /// <summary>Parses the arguments; returns null (after printing usage) when help was asked for.</summary>
    public static BenchmarkSettings? Parse(string[] args)
    {
        var settings = new BenchmarkSettings();
        bool tinyRepetitionsGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                return null;
            }

            if (name == "--diagnose")
            {
                settings = settings with { Diagnose = true };
                continue;
            }

            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            tinyRepetitionsGiven |= name == "--tiny-reps";
            settings = name switch
            {
                "--models" => settings with { Models = ParseModels(value) },
                "--reps" => settings with { Repetitions = ParsePositive(name, value) },
                "--tiny-reps" => settings with { TinyRepetitions = ParsePositive(name, value) },
                "--prompt-tokens" => settings with { PromptTokens = ParsePositive(name, value) },
                "--gen-tokens" => settings with { GenerationTokens = ParsePositive(name, value) },
                "--threads" => settings with { Threads = ParsePositive(name, value) },
                "--context" => settings with { ContextSize = ParsePositive(name, value) },
                "--model-dir" => settings with { ModelDirectory = value },
                "--out" => settings with { OutputDirectory = value },
                "--max-other-load" => settings with { MaxOtherLoad = ParseShare(name, value) },
                _ => throw new ArgumentException($"Unknown option '{name}'.\n{Usage}"),
            };
        }

        if (settings.GenerationTokens < 2)
        {
            throw new ArgumentException("--gen-tokens must be at least 2: generation speed is timed from the first generated token to the last.");
        }

        if (settings.PromptTokens + settings.GenerationTokens >= settings.ContextSize)
        {
            throw new ArgumentException(
                $"--prompt-tokens ({settings.PromptTokens}) plus --gen-tokens ({settings.GenerationTokens}) must be less than --context ({settings.ContextSize}), so no run shifts the context.");
        }

        // One decode call for the whole prompt, as llama-bench does for pp.
        int batch = Math.Max(settings.PromptTokens, 512);
        return settings with
        {
            BatchSize = batch,
            MicroBatchSize = Math.Min(512, batch),
            TinyRepetitions = tinyRepetitionsGiven ? settings.TinyRepetitions : 4 * settings.Repetitions,
        };
    }

    private static string[] ParseModels(string value)
    {
        string[] models = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(m => m.ToLowerInvariant())
            .ToArray();
        foreach (string model in models)
        {
            if (model is not ("tiny" or "small" or "1b"))
            {
                throw new ArgumentException($"Unknown model '{model}'; use tiny, small or 1b.");
            }
        }

        return models.Length > 0 ? models : throw new ArgumentException("--models needs at least one of tiny, small, 1b.");
    }

    private static double ParseShare(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && parsed is > 0 and <= 1
            ? parsed
            : throw new ArgumentException($"{name} needs a number above 0 and at most 1, but was '{value}'.");

    private static int ParsePositive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed > 0
            ? parsed
            : throw new ArgumentException($"{name} needs a positive whole number, but was '{value}'.");

    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>, or <paramref name="fallback"/>: for the --batched and --grammar modes.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
