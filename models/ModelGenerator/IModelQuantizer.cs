namespace LocalLlm.ModelGenerator;

/// <summary>
/// Turns a generated F16 model into a quantized one (for example through llama.cpp's <c>llama_model_quantize</c>),
/// so <see cref="GeneratedModels.Ensure(ModelShape, IModelQuantizer, string?)"/> can cache quantized variants too.
/// </summary>
public interface IModelQuantizer
{
    /// <summary>
    /// A short, file-name-safe name of the quantization and its settings, for example <c>q4_k_m</c>; it becomes
    /// part of the file name and of the cache hash, so change it whenever the output would change.
    /// </summary>
    string Name { get; }

    /// <summary>Writes the quantized model to <paramref name="destinationPath"/>.</summary>
    /// <param name="sourcePath">The generated F16 model.</param>
    /// <param name="destinationPath">A temporary path to write; the caller renames it into place.</param>
    void Quantize(string sourcePath, string destinationPath);
}
