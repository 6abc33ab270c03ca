using System.Diagnostics;
using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>The command line: <c>dotnet run --project models/ModelGenerator -- &lt;shape|all|inspect&gt; [--out dir]</c>.</summary>
internal static class Program
{
    private const string Usage =
        """
        Usage:
          dotnet run --project models/ModelGenerator -- <shape>... [--quant <types>] [--out <dir>]   generate (or reuse) models
          dotnet run --project models/ModelGenerator -- all [--out <dir>]          every shape
          dotnet run --project models/ModelGenerator -- inspect <file.gguf>        print a GGUF header
        Shapes: tiny, small, 1b, embedding. Default output: <repo>/models/generated.
        --quant q8_0,q4_0,q4_k_m also writes those quantizations (llama_model_quantize) of each shape.
        """;

    private static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception ex) when (ex is IOException or LlamaException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    private static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] == "inspect")
        {
            foreach (string file in args.Skip(1))
            {
                Inspect(file);
            }

            return 0;
        }

        string? output = null;
        var shapes = new List<ModelShape>();
        var quantizations = new List<LlamaQuantizationType>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--out" or "-o")
            {
                output = i + 1 < args.Length ? args[++i] : throw new ArgumentException("--out needs a directory.");
            }
            else if (args[i] is "--quant" or "-q")
            {
                string list = i + 1 < args.Length ? args[++i] : throw new ArgumentException("--quant needs a list such as q8_0,q4_0,q4_k_m.");
                quantizations.AddRange(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseQuantization));
            }
            else if (args[i] == "all")
            {
                shapes.AddRange(Enum.GetValues<ModelShape>());
            }
            else
            {
                shapes.Add(ParseShape(args[i]));
            }
        }

        foreach (ModelShape shape in shapes)
        {
            var stopwatch = Stopwatch.StartNew();
            string path = GeneratedModels.Ensure(shape, output);
            Console.WriteLine($"{shape}: {path} ({new FileInfo(path).Length / (1024.0 * 1024.0):F1} MiB, {stopwatch.Elapsed.TotalSeconds:F1} s)");
            foreach (LlamaQuantizationType quantization in quantizations)
            {
                stopwatch.Restart();
                string quantized = GeneratedModels.Ensure(shape, new LlamaCppQuantizer(quantization), output);
                Console.WriteLine($"{shape} {quantization}: {quantized} ({new FileInfo(quantized).Length / (1024.0 * 1024.0):F1} MiB, {stopwatch.Elapsed.TotalSeconds:F1} s)");
            }
        }

        return 0;
    }

    private static ModelShape ParseShape(string text) => text.ToLowerInvariant() switch
    {
        "tiny" => ModelShape.Tiny,
        "small" => ModelShape.Small,
        "1b" or "oneb" => ModelShape.OneB,
        "embedding" or "bert" => ModelShape.Embedding,
        "reranker" => ModelShape.Reranker,
        _ => throw new ArgumentException($"Unknown shape '{text}'.{Environment.NewLine}{Usage}"),
    };

    private static LlamaQuantizationType ParseQuantization(string text) =>
        Enum.TryParse(text, ignoreCase: true, out LlamaQuantizationType type) && Enum.IsDefined(type)
            ? type
            : throw new ArgumentException($"Unknown quantization '{text}'; use one of {string.Join(", ", Enum.GetNames<LlamaQuantizationType>())}.");

    private static void Inspect(string path)
    {
        GgufFile file = GgufFile.Read(path);
        Console.WriteLine(file);
        Console.WriteLine($"  alignment {file.Alignment}, data at {file.DataOffset}, {file.FileLength} bytes");
        foreach (GgufMetadataEntry entry in file.Metadata)
        {
            Console.WriteLine($"  {entry}");
        }

        foreach (GgufTensorInfo tensor in file.Tensors)
        {
            Console.WriteLine($"  {tensor} @ {tensor.Offset} ({tensor.SizeInBytes} bytes)");
        }
    }
}
