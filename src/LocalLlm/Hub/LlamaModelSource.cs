namespace LocalLlm;

/// <summary>Where a <see cref="LlamaModelReference"/> points.</summary>
public enum LlamaModelSource
{
    /// <summary>A GGUF file on this machine.</summary>
    LocalFile,

    /// <summary>A repository on the Hugging Face hub (<c>hf:owner/repo</c>), cached in the shared Hugging Face cache.</summary>
    HuggingFace,

    /// <summary>A GGUF at a plain <c>https://</c> address, cached by its address.</summary>
    Url,
}
