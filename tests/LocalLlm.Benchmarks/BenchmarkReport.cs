using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LocalLlm.Benchmarks;

/// <summary>The table on stdout and the JSON file that lets runs be compared.</summary>
internal sealed record BenchmarkReport
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Schema { get; init; } = "localllm-bench-generation/1";

    public required DateTimeOffset StartedUtc { get; init; }

    public required double DurationSeconds { get; init; }

    public required MachineInfo Machine { get; init; }

    public required BenchmarkSettings Settings { get; init; }

    public required IReadOnlyList<ModelResult> Models { get; init; }

    public IReadOnlyList<Target> Targets => Models.SelectMany(Target.For).ToArray();

    public bool AllPassed => Targets.All(t => t.Passed);

    public void WriteTable(TextWriter output)
    {
        var culture = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine(string.Create(culture,
            $"Generation benchmark: {Settings.PromptTokens}-token prompt, {Settings.GenerationTokens} generated tokens, {Settings.Threads} threads, " +
            $"context {Settings.ContextSize}, batch {Settings.BatchSize}/{Settings.MicroBatchSize}, greedy; median of {Settings.Repetitions} interleaved repetitions ({Settings.TinyRepetitions} on tiny)"));
        output.WriteLine(string.Create(culture,
            $"{Machine.CpuModel}, {Machine.LogicalCores} logical cores, {Machine.Runtime}, llama.cpp {Machine.LlamaCppVersion}, commit {Machine.GitCommit?[..Math.Min(12, Machine.GitCommit.Length)] ?? "unknown"}{(Machine.GitDirty == true ? " (dirty)" : "")}"));
        output.WriteLine();
        string header = string.Create(culture,
            $"{"model",-6} {"file",-26} | {"pp SDK",9} {"pp raw",9} {"ratio",6} | {"tg SDK",8} {"tg raw",8} {"ratio",6} | {"SDK µs/tok",10} {"raw µs/tok",10} {"overhead",9} {"step ovh",9} | {"SDK B/tok",9} {"raw B/tok",9} | {"same tokens",11}");
        output.WriteLine(header);
        output.WriteLine(new string('-', header.Length));
        foreach (ModelResult model in Models)
        {
            ModelResult.Summary sdk = model.SdkMedian;
            ModelResult.Summary raw = model.RawMedian;
            output.WriteLine(string.Create(culture,
                $"{model.Name,-6} {Truncate(model.File, 26),-26} | {sdk.PromptTokensPerSecond,9:F1} {raw.PromptTokensPerSecond,9:F1} {model.PromptRatio,6:F3} | " +
                $"{sdk.GenerationTokensPerSecond,8:F1} {raw.GenerationTokensPerSecond,8:F1} {model.GenerationRatio,6:F3} | " +
                $"{sdk.MicrosecondsPerToken,10:F1} {raw.MicrosecondsPerToken,10:F1} {model.OverheadMicrosecondsPerToken,9:F1} {model.StepOverheadMicroseconds,9:F1} | " +
                $"{sdk.AllocatedBytesPerToken,9:F0} {raw.AllocatedBytesPerToken,9:F0} | {(model.SameTokens ? "yes" : "NO"),11}"));
        }

        output.WriteLine();
        output.WriteLine("pp = prompt processing, tg = generation, in tokens/s; ratio = SDK/raw of the medians; overhead = SDK µs/token - raw µs/token;");
        output.WriteLine("step ovh = the same from each run's median token-to-token interval (robust to load bursts from other processes).");
        output.WriteLine("Spans: pp from the call to the first generated token in hand; tg from the first generated token to the last (one decode,");
        output.WriteLine("sample and detokenization per token). B/tok = managed bytes allocated process-wide over the tg span per token.");
        foreach (ModelResult model in Models)
        {
            ModelResult.Summary sdk = model.SdkMedian;
            output.WriteLine(string.Create(culture,
                $"{model.Name}: spread pp SDK {sdk.PromptTokensPerSecondMin:F1}-{sdk.PromptTokensPerSecondMax:F1}, raw {model.RawMedian.PromptTokensPerSecondMin:F1}-{model.RawMedian.PromptTokensPerSecondMax:F1}; " +
                $"tg SDK {sdk.GenerationTokensPerSecondMin:F1}-{sdk.GenerationTokensPerSecondMax:F1}, raw {model.RawMedian.GenerationTokensPerSecondMin:F1}-{model.RawMedian.GenerationTokensPerSecondMax:F1}; " +
                $"SDK's own LlamaUsage: pp {sdk.ReportedPromptTokensPerSecond:F1}, tg {sdk.ReportedGenerationTokensPerSecond:F1} tok/s; " +
                $"gen0 GCs per SDK run {Statistics.Median(model.Sdk.Select(r => (double)r.Gen0Collections)):F0}; " +
                $"pairs repeated for load from other processes {model.Sdk.Sum(r => r.DiscardedAttempts)}, " +
                $"worst kept {model.Sdk.Concat(model.Raw).Max(r => r.OthersCpuShare):P0}" +
                $"{(model.AnyEndOfGeneration ? "; NOTE: a run ended at an end-of-generation token, figures are per token" : "")}"));
        }

        output.WriteLine();
        foreach (Target target in Targets)
        {
            output.WriteLine(string.Create(culture,
                $"[{(target.Passed ? "PASS" : "FAIL")}] {target.Model,-6} {target.Name}: {target.Value:F3}{target.Unit} {target.Comparison} {target.Threshold}{target.Unit}"));
        }
    }

    public string WriteJson(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"generation-{StartedUtc.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions));
        return path;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
