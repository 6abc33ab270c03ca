using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace LocalLlm.Benchmarks;

/// <summary>
/// How good the header-only memory estimate is: <see cref="LlamaModel.EstimateMemory"/> for a model read into memory
/// (not mapped, so its pages count) and one context, against the growth of the process's resident memory. Weights,
/// token tables and KV cache are written when the model loads and the context is made, so the comparison is taken
/// there. The compute buffers are reserved for the worst case (a micro-batch with every token's logits), and a prompt
/// touches only part of them, so they are shown beside it: reserved, and the growth over decoding a 512-token prompt.
/// Every load is measured in a fresh process: freed native memory stays with the allocator and serves the next load,
/// so a second load in one process grows by less than it holds.
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --memory [--models tiny,small,1b] [--context 2048] [--vocabularies]
/// --vocabularies adds the token-table estimate against a vocabulary-only load for every vocabulary GGUF in the pinned
/// llama.cpp source (SentencePiece, BPE, WordPiece, Unigram and RWKV tokenizers).
/// </summary>
internal static class MemoryBenchmark
{
    private const double Tolerance = 0.10;

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkSettings.Option(args, "--measure-load", string.Empty) is { Length: > 0 } measured)
        {
            return await MeasureOneLoadAsync(measured, args).ConfigureAwait(false);
        }

        string[] models = BenchmarkSettings.Option(args, "--models", "tiny,small,1b").Split(',');
        string contextSize = BenchmarkSettings.Option(args, "--context", "2048");
        LlamaBackend.Initialize();
        Console.WriteLine($"Memory: estimate from the GGUF header against resident-memory growth (each load in a fresh process); weights read into memory, a {contextSize}-token context");
        Console.WriteLine("tables = llama.cpp's token tables, estimated from the header's tokens and merges, against the resident growth of a vocabulary-only load");
        Console.WriteLine($"{"model",-6} | {"weights",9} {"KV",8} {"tables",8} {"estimate",9} | {"measured",9} | {"ratio",6} | {"vocab-only load",15} {"tables ratio",12} | {"compute reserved",16} {"touched by a prompt",19}");
        var goals = new List<(string, bool)>();
        foreach (string name in models)
        {
            string path = ModelBenchmark.EnsureModel(name, null);
            var contextOptions = new LlamaContextOptions { ContextSize = int.Parse(contextSize, CultureInfo.InvariantCulture), ThreadCount = 2 };
            LlamaMemoryEstimate estimate = LlamaModel.EstimateMemory(path, new LlamaModelOptions { UseMemoryMap = false }, contextOptions);
            long vocabulary = Measure(path, "vocabulary", contextSize)[0];
            long[] full = Measure(path, "model", contextSize);
            long loaded = full[0];
            long decoded = full[1];

            LlamaDeviceMemoryEstimate host = estimate.Devices[^1];
            long estimated = host.ModelBytes + host.ContextBytes + host.TokenizerBytes;
            double ratio = (double)estimated / loaded;
            double tables = (double)host.TokenizerBytes / vocabulary;
            Console.WriteLine($"{name,-6} | {Mib(host.ModelBytes),9} {Mib(host.ContextBytes),8} {Mib(host.TokenizerBytes),8} {Mib(estimated),9} | {Mib(loaded),9} | {ratio,6:F3} | {Mib(vocabulary),15} {tables,12:F3} | {Mib(host.ComputeBytes),16} {Mib(decoded),19}");
            goals.Add(($"{name}: estimate {ratio:F3} of the measured growth (within {Tolerance:P0})", Math.Abs(ratio - 1) <= Tolerance));
        }

        if (args.Contains("--vocabularies"))
        {
            Console.WriteLine();
            Console.WriteLine($"{"vocabulary",-28} {"tokens",8} {"merges",8} | {"tables",8} {"measured",9} {"ratio",6}");
            string source = typeof(MemoryBenchmark).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LlamaCppSourceDir").Value!;
            foreach (string file in Directory.GetFiles(Path.Combine(source, "models"), "ggml-vocab-*.gguf").Order(StringComparer.Ordinal))
            {
                Gguf.GgufFile header = Gguf.GgufFile.Read(file);
                int tokens = header.TryGetValue("tokenizer.ggml.tokens", out Gguf.GgufMetadataEntry? t) && t.Value is string[] texts ? texts.Length : 0;
                int merges = header.TryGetValue("tokenizer.ggml.merges", out Gguf.GgufMetadataEntry? m) && m.Value is string[] pairs ? pairs.Length : 0;
                long tables = TokenTableSize.Estimate(header); // a vocabulary file has no weights for llama.cpp to size
                long growth = Measure(file, "vocabulary", contextSize)[0];
                Console.WriteLine($"{Path.GetFileName(file),-28} {tokens,8} {merges,8} | {Mib(tables),8} {Mib(growth),9} {(double)tables / growth,6:F3}");
            }
        }

        Console.WriteLine();
        foreach ((string goal, bool passed) in goals)
        {
            Console.WriteLine($"{(passed ? "PASS" : "FAIL")}  {goal}");
        }

        return goals.TrueForAll(g => g.Item2) ? 0 : 1;
    }

    // Runs this benchmark again in a child process that loads once and prints its growth in bytes.
    private static long[] Measure(string path, string what, string contextSize)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (!Environment.ProcessPath!.EndsWith("LocalLlm.Benchmarks", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(MemoryBenchmark).Assembly.Location);
        }

        foreach (string argument in new[] { "--memory", "--measure-load", what, "--path", path, "--context", contextSize })
        {
            start.ArgumentList.Add(argument);
        }

        using Process child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("growth ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"measuring a {what} load of '{path}' failed (exit {child.ExitCode}): {output}");
        }

        return [.. line["growth ".Length..].Split(' ').Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
    }

    private static async Task<int> MeasureOneLoadAsync(string what, string[] args)
    {
        string path = BenchmarkSettings.Option(args, "--path", string.Empty);
        int contextSize = int.Parse(BenchmarkSettings.Option(args, "--context", "2048"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        CollectManagedGarbage();
        long before = ResidentBytes();
        if (what == "vocabulary")
        {
            using LlamaModel vocabularyOnly = await LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true }).ConfigureAwait(false);
            CollectManagedGarbage();
            Console.WriteLine($"growth {ResidentBytes() - before}");
            return 0;
        }

        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { UseMemoryMap = false }).ConfigureAwait(false);
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = contextSize, ThreadCount = 2 });
        CollectManagedGarbage();
        long loaded = ResidentBytes();
        int[] prompt = ModelBenchmark.BuildPrompt(model.Tokenizer, 512);
        await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = 1, Sampling = LlamaSamplingOptions.Greedy }).ConfigureAwait(false);
        Console.WriteLine($"growth {loaded - before} {ResidentBytes() - loaded}");
        return 0;
    }

    // The SDK reads the GGUF header in managed code before llama.cpp loads (a 128K-token vocabulary is ~20 MiB of
    // strings, garbage once read); collected and given back, so the growth is what the model holds.
    private static void CollectManagedGarbage()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0:F1}M";

    private static long ResidentBytes() => ProcessMemory.ResidentBytes(Environment.ProcessId);
}
