namespace LocalLlm.ModelGenerator;

/// <summary>Quantizes generated models with llama.cpp's own quantizer (<see cref="LlamaQuantizer"/>).</summary>
/// <param name="type">The target weight format.</param>
public sealed class LlamaCppQuantizer(LlamaQuantizationType type) : IModelQuantizer
{
    /// <summary>Gets the target weight format.</summary>
    public LlamaQuantizationType Type { get; } = type;

    /// <inheritdoc />
    public string Name => Type.ToString().ToLowerInvariant();

    /// <inheritdoc />
    public void Quantize(string sourcePath, string destinationPath) => LlamaQuantizer.Quantize(sourcePath, destinationPath, Type);
}
