namespace LocalLlm;

/// <summary>How a model is spread over several GPUs.</summary>
public enum LlamaSplitMode
{
    /// <summary>Use only the GPU named by <see cref="LlamaModelOptions.MainGpu"/>.</summary>
    None = 0,

    /// <summary>Split layers and the KV cache across GPUs (llama.cpp's default).</summary>
    Layer = 1,

    /// <summary>Split layers and the KV cache across GPUs, with tensor parallelism where supported.</summary>
    Row = 2,
}
