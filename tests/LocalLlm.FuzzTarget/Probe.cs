using LocalLlm.Gguf;

namespace LocalLlm.FuzzTarget;

/// <summary>
/// One hostile input, run in this (child) process: the exit code says whether LocalLlm ran it (0), refused it with an
/// exception (3, the exception's type, failure and message on the last line of stderr), or the process died.
/// </summary>
internal static class Probe
{
    public const int Ran = 0;
    public const int Refused = 3;
    public const int Usage = 2;
    public const int UnexpectedException = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            switch (args)
            {
                case ["--run", string path]:
                    return await GenerateAsync(path, sampling: null);
                case ["--run", string path, "--grammar", string grammar]:
                    return await GenerateAsync(path, LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(grammar).Build());
                case ["--api", string path, string seed]:
                    await ApiCase.RunAsync(path, int.Parse(seed, System.Globalization.CultureInfo.InvariantCulture));
                    return Ran;
                case ["--tokenize", string path]:
                    return await TokenizeAsync(path);
                case ["--run-vocabulary", string path]:
                    return await TokenizeAndGenerateAsync(path, scheduler: false);
                case ["--run-vocabulary", string path, "--scheduler"]:
                    return await TokenizeAndGenerateAsync(path, scheduler: true);
                case ["--gpu-greedy", string path, string tokens, string prompt]:
                    return await GreedyOnTheGpuAsync(path, int.Parse(tokens, System.Globalization.CultureInfo.InvariantCulture), prompt);
                case ["--rpc-worker-lost", string path, string endpoint, string workerPid]:
                    return await LoseTheWorkerAsync(path, endpoint, int.Parse(workerPid, System.Globalization.CultureInfo.InvariantCulture));
                case ["--quantize-onto-itself", string path]:
                    LlamaQuantizer.Quantize(path, path, LlamaQuantizationType.Q8_0);
                    return Ran;
                default:
                    Console.Error.WriteLine($"unknown probe: {string.Join(' ', args)}");
                    return Usage;
            }
        }
        catch (Exception ex) when (ex is LlamaException or GgufFormatException or ArgumentException or NotSupportedException or InvalidOperationException or IOException)
        {
            string failure = ex is LlamaModelLoadException load ? $"[{load.Failure}]" : string.Empty;
            Console.Error.WriteLine($"{ex.GetType().Name}{failure}: {ex.Message.ReplaceLineEndings(" ")}");
            return Refused;
        }
        catch (Exception ex)
        {
            // An exception of a kind no caller would expect from bad input (NullReference, IndexOutOfRange, ...).
            Console.Error.WriteLine($"{ex.GetType().Name}: {ex.ToString().ReplaceLineEndings(" ")}");
            return UnexpectedException;
        }
    }

    private static async Task<int> GenerateAsync(string path, LlamaSamplingOptions? sampling)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(path);
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 });
        await session.CompleteAsync("Hello, llama", new LlamaGenerationOptions { MaxTokens = 4, Sampling = sampling ?? LlamaSamplingOptions.Greedy });
        return Ran;
    }

    // Every layer on the GPU backend that loaded (Vulkan on lavapipe in the tests): prints the devices, where the layers
    // went and the greedy tokens, for the parent to compare with a CPU run.
    private static async Task<int> GreedyOnTheGpuAsync(string path, int tokens, string prompt)
    {
        LlamaBackendInfo backend = LlamaBackend.Current!;
        Console.WriteLine($"devices: {string.Join("; ", backend.Devices.Select(d => $"{d.Name} [{d.Backend}] {d.Description}"))}");
        Console.WriteLine($"gpu not used: {string.Join("; ", backend.GpuBackendFailures)}");
        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { GpuLayerCount = -1 });
        Console.WriteLine($"layers: {string.Join(",", model.LayerDevices)}");
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 });
        LlamaCompletion completion = await session.CompleteAsync(prompt, new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy });
        Console.WriteLine($"tokens: {string.Join(",", completion.TokenIds)}");
        return Ran;
    }

    // Generates with every layer on an RPC worker, stops the worker, and generates again: llama.cpp's RPC client has no
    // way to report a lost worker but to abort the process, which the test that runs this proves.
    private static async Task<int> LoseTheWorkerAsync(string path, string endpoint, int workerPid)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { RpcServers = [endpoint] });
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 });
        await session.CompleteAsync("Hello, llama", new LlamaGenerationOptions { MaxTokens = 4, Sampling = LlamaSamplingOptions.Greedy });
        Console.WriteLine("generated across the worker");
        using (var worker = System.Diagnostics.Process.GetProcessById(workerPid))
        {
            worker.Kill();
            await worker.WaitForExitAsync();
        }

        Console.WriteLine("worker stopped");
        session.Reset();
        await session.CompleteAsync("Hello again", new LlamaGenerationOptions { MaxTokens = 4, Sampling = LlamaSamplingOptions.Greedy });
        return Ran;
    }

    private static async Task<int> TokenizeAsync(string path)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true });
        foreach (string text in new[] { "Hello,\n world 🦙 \u00ff", "", " ", "\0\t<s></s><|endoftext|>", "\u0300\uD83E" })
        {
            foreach (bool special in new[] { false, true })
            {
                int[] tokens = model.Tokenizer.Tokenize(text, addSpecial: special, parseSpecial: special);
                model.Tokenizer.Detokenize(tokens, removeSpecial: special, renderSpecial: !special);
            }
        }

        return Ran;
    }

    // Tokenizing is where a vocabulary llama.cpp misreads aborts; a session is where a vocabulary-only model would.
    private static async Task<int> TokenizeAndGenerateAsync(string path, bool scheduler)
    {
        using LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { VocabularyOnly = true });
        int[] tokens = model.Tokenizer.Tokenize("Hello,\n world 🦙 \u00ff", addSpecial: true);
        model.Tokenizer.Detokenize(tokens);
        using IDisposable generator = scheduler
            ? new LlamaScheduler(model, new LlamaSchedulerOptions { ParallelSequences = 2, ContextSizePerSequence = 256, ThreadCount = 1 })
            : new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 });
        return Ran;
    }
}
