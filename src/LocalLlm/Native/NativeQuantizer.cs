namespace LocalLlm.Native;

/// <summary>llama.cpp's model quantizer.</summary>
internal static class NativeQuantizer
{
    /// <summary>Writes a copy of <paramref name="inputPath"/> in <paramref name="type"/> weights; returns llama.cpp's status (0 on success).</summary>
    public static uint Quantize(string inputPath, string outputPath, LlamaQuantizationType type, int threadCount)
    {
        llama_model_quantize_params parameters = NativeMethods.llama_model_quantize_default_params();
        parameters.nthread = threadCount;
        parameters.ftype = (llama_ftype)type;
        return NativeMethods.llama_model_quantize(inputPath, outputPath, parameters);
    }
}
