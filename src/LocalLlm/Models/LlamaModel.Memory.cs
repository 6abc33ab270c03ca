using System.Text.Json;
using System.Text.Json.Nodes;
using LocalLlm.Native;

namespace LocalLlm;

public sealed partial class LlamaModel
{
    /// <summary>
    /// Estimates, before loading, what a model and one context would take in memory on each device: weights, KV cache
    /// and compute buffers. llama.cpp measures it as llama-server's <c>--fit</c> does, reading the GGUF's header and
    /// sizing every buffer without allocating one. Every buffer counts, weights repacked for the CPU included (which
    /// <c>--fit</c> leaves out). Not counted: llama.cpp's token tables (tens of MiB for a 128K-token vocabulary) and the
    /// process's own memory.
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

        // The same context a session or scheduler would make (InferenceEngineSettings.FromContextOptions): n_ctx is the
        // per-sequence size, by default the trained length capped, times the sequences.
        int sequenceSize = contextOptions.ContextSize ?? InferenceContexts.DefaultSize(TrainedContextLength(fullPath));
        int contextSize = sequenceSize * sequences;
        int batchSize = Math.Min(Math.Max(contextOptions.BatchSize, sequences + 1), contextSize);
        var parameters = new JsonObject
        {
            ["n_gpu_layers"] = modelOptions.GpuLayerCount,
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

        string json;
        try
        {
            json = NativeChatLayer.EstimateMemory(fullPath, parameters.ToJsonString());
        }
        catch (NativeChatLayerException ex)
        {
            throw new LlamaException($"llama.cpp could not estimate the memory of '{fullPath}': {ex.Message}", ex);
        }

        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        LlamaDeviceMemoryEstimate[] devices = [.. root.GetProperty("devices").EnumerateArray().Select(d => new LlamaDeviceMemoryEstimate(
            d.GetProperty("name").GetString()!,
            d.GetProperty("model").GetInt64(),
            d.GetProperty("context").GetInt64(),
            d.GetProperty("compute").GetInt64(),
            d.GetProperty("free").GetInt64(),
            d.GetProperty("total").GetInt64()))];
        return new LlamaMemoryEstimate(devices, root.GetProperty("n_layer").GetInt32(), root.GetProperty("n_ctx_train").GetInt32());
    }

    private static long TrainedContextLength(string path)
    {
        Gguf.GgufFile header = Gguf.GgufFile.Read(path);
        return header.Architecture is { } architecture && header.TryGetValue($"{architecture}.context_length", out Gguf.GgufMetadataEntry? entry)
            ? entry.Value switch { uint u => u, int i => i, ulong l => (long)Math.Min(l, long.MaxValue), long l => l, _ => 0 }
            : 0;
    }
}
