using LocalLlm.Native;

namespace LocalLlm;

/// <summary>Converts a GGUF model to a smaller weight format with llama.cpp's quantizer.</summary>
public static class LlamaQuantizer
{
    /// <summary>
    /// Writes a quantized copy of <paramref name="inputPath"/> to <paramref name="outputPath"/>. Blocks until done:
    /// llama.cpp's quantizer cannot be interrupted, so call it from a thread that may wait (seconds to minutes).
    /// </summary>
    /// <param name="inputPath">The source GGUF (usually F32, F16 or BF16).</param>
    /// <param name="outputPath">Where to write the quantized GGUF; an existing file is replaced.</param>
    /// <param name="type">The target weight format.</param>
    /// <param name="threadCount">Threads to use; 0 uses every hardware thread.</param>
    /// <exception cref="ArgumentException">A path is empty, or the output path is the input path.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is undefined or <paramref name="threadCount"/> is negative.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="inputPath"/> does not exist.</exception>
    /// <exception cref="LlamaException">llama.cpp could not quantize the file; the message gives its reason.</exception>
    public static void Quantize(string inputPath, string outputPath, LlamaQuantizationType type, int threadCount = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        ArgumentOutOfRangeException.ThrowIfNegative(threadCount);
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"{(int)type} is not a defined {nameof(LlamaQuantizationType)}.");
        }

        string input = Path.GetFullPath(inputPath);
        string output = Path.GetFullPath(outputPath);
        if (!File.Exists(input))
        {
            throw new FileNotFoundException($"Cannot quantize '{input}': the file does not exist.", input);
        }

        if (string.Equals(input, output, StringComparison.Ordinal))
        {
            // llama.cpp would truncate the file it is reading from its own memory map (SIGBUS).
            throw new ArgumentException($"Cannot quantize '{input}' onto itself: give an output path other than the input.", nameof(outputPath));
        }

        NativeLibraryLoader.EnsureInitialized();
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        uint result = NativeQuantizer.Quantize(input, output, type, threadCount);
        if (result != 0)
        {
            string reason = errors.Lines.Count > 0 ? string.Join(" ", errors.Lines.TakeLast(3)) : $"status {result}";
            throw new LlamaException($"Could not quantize '{input}' to {type} at '{output}': {reason}");
        }
    }
}
