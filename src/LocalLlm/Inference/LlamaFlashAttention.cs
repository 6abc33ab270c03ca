namespace LocalLlm;

/// <summary>Whether llama.cpp uses Flash Attention.</summary>
public enum LlamaFlashAttention
{
    /// <summary>Let llama.cpp decide per model and device (its default).</summary>
    Auto = -1,

    /// <summary>Never use Flash Attention.</summary>
    Disabled = 0,

    /// <summary>Always use Flash Attention.</summary>
    Enabled = 1,
}
