using System.Text.Json;
using System.Text.Json.Nodes;
using LocalLlm.Native;

namespace LocalLlm;

public sealed partial class LlamaModel
{
    /// <summary>The context per sequence a fit chose for this model (AddLocalLlm's FitToMemory); contexts that set none get it.</summary>
    internal int? FittedContextSize { get; set; }

    /// <summary>
    /// Estimates, before loading, what a model and one context would take in memory on each device: weights, KV cache
    /// and compute buffers. llama.cpp measures it as llama-server's <c>--fit</c> does, reading the GGUF's header and
    /// sizing every buffer without allocating one. Every buffer counts, weights repacked for the CPU included (which
    /// <c>--fit</c> leaves out), and so do llama.cpp's token tables on the host (tens of MiB for a 128K-token
    /// vocabulary), sized from the header's tokens and merges. Not counted: the process's own memory.
    /// </summary>
    /// <param name="path">The GGUF file.</param>
    /// <param name="modelOptions">The offload settings the model would load with (<see cref="LlamaModelOptions.GpuLayerCount"/>); null for the defaults. Host weights count in full, mapped or not.</param>
    /// <param name="contextOptions">The context (size, batch sizes, cache types, flash attention); null for the defaults. An unset <see cref="LlamaContextOptions.ContextSize"/> means what a session would make: the model's trained length, capped.</param>
    /// <param name="sequences">How many sequences the context would hold (a scheduler's or chat client's <c>ParallelSequences</c>).</param>
    /// <returns>The estimate per device.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option, or <paramref name="sequences"/>, is out of range.</exception>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    /// <exception cref="LlamaException">llama.cpp could not read the model or size its buffers.</exception>
    public static LlamaMemoryEstimate EstimateMemory(string path, LlamaModelOptions? modelOptions = null, LlamaContextOptions? contextOptions = null, int sequences = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        modelOptions ??= new LlamaModelOptions();
        contextOptions ??= new LlamaContextOptions();
        modelOptions.Validate();
        contextOptions.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequences, 256);
        string fullPath = ModelFileCheck.Validate(path, LoadLogger(modelOptions));
        NativeLibraryLoader.EnsureInitialized();
        return EstimateMemory(fullPath, Gguf.GgufFile.Read(fullPath), modelOptions, contextOptions, sequences);
    }

    // The estimate of a checked file whose header is already read (PlanFit estimates twice and reads it once).
    private static LlamaMemoryEstimate EstimateMemory(string fullPath, Gguf.GgufFile header, LlamaModelOptions modelOptions, LlamaContextOptions contextOptions, int sequences)
    {
        // The same context a session or scheduler would make (InferenceEngineSettings.FromContextOptions): n_ctx is the
        // per-sequence size, by default the trained length capped, times the sequences.
        int sequenceSize = contextOptions.ContextSize ?? InferenceContexts.DefaultSize(TrainedContextLength(header));
        int contextSize = sequenceSize * sequences;
        JsonObject parameters = NativeParameters(modelOptions.GpuLayerCount, modelOptions, contextOptions, contextSize, sequences);
        using JsonDocument document = CallShim(() => NativeChatLayer.EstimateMemory(fullPath, parameters.ToJsonString()), $"estimate the memory of '{fullPath}'");
        JsonElement root = document.RootElement;
        LlamaDeviceMemoryEstimate[] devices = [.. root.GetProperty("devices").EnumerateArray().Select(d => new LlamaDeviceMemoryEstimate(
            d.GetProperty("name").GetString()!,
            d.GetProperty("model").GetInt64(),
            d.GetProperty("context").GetInt64(),
            d.GetProperty("compute").GetInt64(),
            d.GetProperty("free").GetInt64(),
            d.GetProperty("total").GetInt64()))];
        devices[^1] = devices[^1] with { TokenizerBytes = TokenTableSize.Estimate(header) };
        return new LlamaMemoryEstimate(devices, root.GetProperty("n_layer").GetInt32(), root.GetProperty("n_ctx_train").GetInt32());
    }

    private static long TrainedContextLength(Gguf.GgufFile header)
    {
        return header.Architecture is { } architecture && header.TryGetValue($"{architecture}.context_length", out Gguf.GgufMetadataEntry? entry)
            ? entry.Value switch { uint u => u, int i => i, ulong l => (long)Math.Min(l, long.MaxValue), long l => l, _ => 0 }
            : 0;
    }

    /// <summary>
    /// Chooses, before loading, how many layers to offload and how large a context to make so that every device keeps
    /// <see cref="LlamaFitOptions.MarginBytes"/> free: llama-server's <c>--fit</c> for the GPUs (llama.cpp's
    /// <c>common_fit_params</c>), then the host, which that fit treats as unlimited, by shrinking a chosen context to
    /// what the free system memory holds. Settings given in <paramref name="options"/> are kept as they are.
    /// </summary>
    /// <param name="path">The GGUF file.</param>
    /// <param name="options">What may be chosen and the margin; null for the defaults (choose both, keep 1 GiB free).</param>
    /// <returns>The plan, with <see cref="LlamaFitPlan.Fits"/> false and the reason when nothing fits.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    /// <exception cref="LlamaException">llama.cpp could not read the model or size its buffers.</exception>
    /// <remarks>Not thread-safe with other model loads: llama.cpp's fit swaps its global log callback while it runs.</remarks>
    public static LlamaFitPlan PlanFit(string path, LlamaFitOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new LlamaFitOptions();
        options.Validate();
        LlamaContextOptions context = options.Context ?? new LlamaContextOptions();
        string fullPath = ModelFileCheck.Validate(path, LoadLogger(new LlamaModelOptions()));
        NativeLibraryLoader.EnsureInitialized();
        int sequences = options.Sequences;

        // The GPUs: llama.cpp changes only what is left at its defaults (-1 layers, a context of 0).
        JsonObject parameters = NativeParameters(options.GpuLayerCount ?? -1, new LlamaModelOptions(), context, options.ContextSize is { } size ? size * sequences : 0, sequences);
        parameters["n_ctx_min"] = options.MinimumContextSize;
        parameters["margin_bytes"] = options.MarginBytes;
        using JsonDocument document = CallShim(() => NativeChatLayer.FitParameters(fullPath, parameters.ToJsonString()), $"fit '{fullPath}'");
        JsonElement root = document.RootElement;
        bool gpusFit = root.GetProperty("status").GetInt32() == 0;
        int gpuLayers = options.GpuLayerCount ?? root.GetProperty("n_gpu_layers").GetInt32();
        int fitted = root.GetProperty("n_ctx").GetInt32();
        Gguf.GgufFile header = Gguf.GgufFile.Read(fullPath);
        long trained = TrainedContextLength(header);
        int perSequence = options.ContextSize ?? (fitted > 0 ? fitted / sequences : (int)Math.Clamp(trained > 0 ? trained : LlamaContextOptions.DefaultContextSizeLimit, 16, 1 << 24));
        float[] split = [.. root.GetProperty("tensor_split").EnumerateArray().Select(e => e.GetSingle())];
        int minimum = Math.Min(options.MinimumContextSize, perSequence); // a model trained on less cannot be asked for more

        // The host: the KV cache grows with the context, so a chosen context shrinks to what free memory holds.
        var modelOptions = new LlamaModelOptions { GpuLayerCount = gpuLayers };
        LlamaMemoryEstimate estimate = EstimateMemory(fullPath, header, modelOptions, WithContextSize(context, perSequence), sequences);
        LlamaDeviceMemoryEstimate host = estimate.Devices[^1];
        if (options.ContextSize is null && host.TotalBytes > host.FreeBytes - options.MarginBytes && host.ContextBytes > 0)
        {
            long perToken = Math.Max(1, host.ContextBytes / ((long)perSequence * sequences));
            long room = host.FreeBytes - options.MarginBytes - host.ModelBytes - host.ComputeBytes - host.TokenizerBytes;
            long holds = Math.Clamp(room / perToken / sequences, 0, perSequence);
            int aligned = (int)(holds - (holds % 256));
            if (aligned >= minimum)
            {
                perSequence = aligned;
                LlamaMemoryEstimate resized = EstimateMemory(fullPath, header, modelOptions, WithContextSize(context, perSequence), sequences);

                // Judged against the free memory the size was chosen from: a second reading drifts by a few MiB, and
                // the chosen size leaves less than 256 tokens' worth of slack.
                estimate = resized with { Devices = [.. resized.Devices.Select(d => d with { FreeBytes = estimate.Devices.FirstOrDefault(e => e.Device == d.Device)?.FreeBytes ?? d.FreeBytes })] };
            }
        }

        LlamaDeviceMemoryEstimate? wanting = estimate.Devices.FirstOrDefault(d => d.TotalBytes > 0 && d.TotalBytes > d.FreeBytes - options.MarginBytes);
        bool fits = gpusFit && wanting is null;
        string explanation = wanting is { } lacking
            ? $"'{lacking.Device}' would need {Mib(lacking.TotalBytes)} MiB (weights {Mib(lacking.ModelBytes)}, token tables {Mib(lacking.TokenizerBytes)}, KV cache {Mib(lacking.ContextBytes)} for {perSequence} tokens x {sequences} sequences, compute {Mib(lacking.ComputeBytes)}) and has {Mib(lacking.FreeBytes)} MiB free, of which {Mib(options.MarginBytes)} MiB are to stay free."
            : fits ? string.Empty : $"llama.cpp's fit found no offload that leaves {Mib(options.MarginBytes)} MiB free on every GPU with a context of at least {options.MinimumContextSize} tokens.";
        return new LlamaFitPlan(fits, gpuLayers, perSequence, split, estimate, explanation);
    }

    private static long Mib(long bytes) => bytes / (1 << 20);

    private static JsonDocument CallShim(Func<string> call, string what)
    {
        try
        {
            return JsonDocument.Parse(call());
        }
        catch (NativeChatLayerException ex)
        {
            throw new LlamaException($"llama.cpp could not {what}: {ex.Message}", ex);
        }
    }

    private static LlamaContextOptions WithContextSize(LlamaContextOptions context, int size) => new()
    {
        ContextSize = size,
        BatchSize = context.BatchSize,
        MicroBatchSize = Math.Min(context.MicroBatchSize, context.BatchSize),
        FlashAttention = context.FlashAttention,
        KeyCacheType = context.KeyCacheType,
        ValueCacheType = context.ValueCacheType,
    };

    // The context a session or scheduler would make (InferenceEngineSettings.FromContextOptions), as the shim reads it.
    private static JsonObject NativeParameters(int gpuLayers, LlamaModelOptions modelOptions, LlamaContextOptions contextOptions, int contextSize, int sequences)
    {
        int batchSize = contextSize == 0 ? contextOptions.BatchSize : Math.Min(Math.Max(contextOptions.BatchSize, sequences + 1), contextSize);
        var parameters = new JsonObject
        {
            ["n_gpu_layers"] = gpuLayers,
            ["main_gpu"] = modelOptions.MainGpu,
            ["split_mode"] = (int)modelOptions.SplitMode,
            ["n_ctx"] = contextSize,
            ["n_batch"] = batchSize,
            ["n_ubatch"] = Math.Min(contextOptions.MicroBatchSize, batchSize),
            ["n_seq_max"] = sequences,
            ["kv_unified"] = sequences == 1,
        };
        if (contextOptions.FlashAttention is { } flash)
        {
            parameters["flash_attn_type"] = (int)flash;
        }

        if (contextOptions.KeyCacheType is { } keyType)
        {
            parameters["type_k"] = (int)keyType;
        }

        if (contextOptions.ValueCacheType is { } valueType)
        {
            parameters["type_v"] = (int)valueType;
        }

        return parameters;
    }
}
