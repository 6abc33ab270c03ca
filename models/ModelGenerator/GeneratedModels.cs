using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using LocalLlm.Gguf;

namespace LocalLlm.ModelGenerator;

/// <summary>
/// Makes random-weight GGUF models with real tokenizers for tests and benchmarks, cached by content: the file name
/// holds a hash of the recipe (shape, generator version, seed, vocabulary and chat template), so a file is reused
/// while its recipe is unchanged and made again when it changes.
/// </summary>
/// <remarks>
/// Safe to call from several threads or processes at once: each writer writes a temporary file and renames it into
/// place, so callers never see a partial model (at worst two callers both generate the same file).
/// </remarks>
public static class GeneratedModels
{
    /// <summary>Bump when the generator's output changes for an unchanged recipe; it invalidates every cached file.</summary>
    public const int GeneratorVersion = 1;

    /// <summary>The environment variable that overrides <see cref="LlamaCppSourceDirectory"/>.</summary>
    public const string LlamaCppSourceVariable = "LOCALLLM_LLAMACPP_SOURCE";


    /// <summary>Where models go by default: <c>models/generated</c> under the repository root (git-ignored).</summary>
    public static string DefaultOutputDirectory => Path.Combine(GetBuildMetadata("RepoRoot"), "models", "generated");

    /// <summary>
    /// The pinned llama.cpp source tree the vocabularies and chat template come from: the
    /// <c>LOCALLLM_LLAMACPP_SOURCE</c> environment variable, or what <c>build/native/acquire-native.sh source</c>
    /// printed when this assembly was built.
    /// </summary>
    public static string LlamaCppSourceDirectory =>
        Environment.GetEnvironmentVariable(LlamaCppSourceVariable) is { Length: > 0 } overridden
            ? overridden
            : GetBuildMetadata("LlamaCppSourceDir");

    /// <summary>Returns the path of the model of <paramref name="shape"/>, generating it first if it is missing.</summary>
    /// <param name="shape">The model shape.</param>
    /// <param name="outputDirectory">The cache directory; <see cref="DefaultOutputDirectory"/> when null.</param>
    /// <returns>The full path of the GGUF file.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shape"/> is not defined.</exception>
    /// <exception cref="FileNotFoundException">The vocabulary or chat template is missing from the llama.cpp tree.</exception>
    public static string Ensure(ModelShape shape, string? outputDirectory = null) => Ensure(ModelSpec.For(shape), outputDirectory);

    /// <summary>Returns the path of the model of a custom recipe, generating it first if it is missing.</summary>
    /// <param name="spec">The recipe.</param>
    /// <param name="outputDirectory">The cache directory; <see cref="DefaultOutputDirectory"/> when null.</param>
    /// <returns>The full path of the GGUF file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="spec"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The vocabulary or chat template is missing from the llama.cpp tree.</exception>
    public static string Ensure(ModelSpec spec, string? outputDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string directory = Path.GetFullPath(outputDirectory ?? DefaultOutputDirectory);
        string vocabularyPath = Path.Combine(LlamaCppSourceDirectory, "models", $"ggml-vocab-{spec.Vocabulary}.gguf");
        string? chatTemplate = spec.Architecture == "llama" && spec.ChatTemplateFile is { } templateFile ? File.ReadAllText(RequireFile($"models/templates/{templateFile}")) : null;
        string hash = Hash(DescribeRecipe(spec), HashFile(RequireFile($"models/ggml-vocab-{spec.Vocabulary}.gguf")), chatTemplate ?? string.Empty);
        string path = Path.Combine(directory, $"{spec.FileStem}-{hash}.gguf");
        if (File.Exists(path))
        {
            return path;
        }

        Directory.CreateDirectory(directory);
        GgufFile vocabulary = GgufFile.Read(vocabularyPath);
        GgufWriter writer = spec.Architecture switch
        {
            "llama" => LlamaModelBuilder.Build(spec, vocabulary, chatTemplate),
            "bert" => BertModelBuilder.Build(spec, vocabulary),
            _ => throw new ArgumentException($"The generator cannot build the architecture '{spec.Architecture}'; use llama or bert.", nameof(spec)),
        };
        writer.WriteTo(path);
        DeleteStale(directory, $"{Regex.Escape(spec.FileStem)}-[0-9a-f]{{12}}", path);
        return path;
    }

    /// <summary>
    /// Returns the path of a quantized variant of <paramref name="shape"/>, generating the F16 model and running
    /// <paramref name="quantizer"/> on it first if the variant is missing.
    /// </summary>
    /// <param name="shape">The model shape.</param>
    /// <param name="quantizer">Makes the quantized file; its <see cref="IModelQuantizer.Name"/> is part of the cache key.</param>
    /// <param name="outputDirectory">The cache directory; <see cref="DefaultOutputDirectory"/> when null.</param>
    /// <returns>The full path of the quantized GGUF file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="quantizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The quantizer's name is empty or not made of letters, digits, '_' and '.'.</exception>
    public static string Ensure(ModelShape shape, IModelQuantizer quantizer, string? outputDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        string name = quantizer.Name;
        if (string.IsNullOrEmpty(name) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
        {
            throw new ArgumentException($"The quantizer name '{name}' must be non-empty and use only ASCII letters, digits, '_' and '.'.", nameof(quantizer));
        }

        string source = Ensure(shape, outputDirectory);
        string stem = ModelSpec.For(shape).FileStem;
        string key = name.ToLowerInvariant();
        string hash = Hash(Path.GetFileName(source), key);
        string path = Path.Combine(Path.GetDirectoryName(source)!, $"{stem}-{key}-{hash}.gguf");
        if (File.Exists(path))
        {
            return path;
        }

        string tempPath = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            quantizer.Quantize(source, tempPath);
            File.Move(tempPath, path, overwrite: true);
        }
        finally
        {
            File.Delete(tempPath);
        }

        DeleteStale(Path.GetDirectoryName(path)!, $"{Regex.Escape(stem)}-{Regex.Escape(key)}-[0-9a-f]{{12}}", path);
        return path;
    }

    /// <summary>A canonical, culture-independent description of everything that shapes the output.</summary>
    internal static string DescribeRecipe(ModelSpec spec) => string.Create(CultureInfo.InvariantCulture,
        $"generator={GeneratorVersion};shape={spec.Shape};arch={spec.Architecture};vocab={spec.Vocabulary};" +
        $"embd={spec.EmbeddingLength};layers={spec.BlockCount};heads={spec.HeadCount};kv={spec.KeyValueHeadCount};" +
        $"ff={spec.FeedForwardLength};ctx={spec.ContextLength};rope={spec.RopeFreqBase:R};eps={spec.NormEpsilon:R};" +
        $"tok={spec.TokenEmbeddingType};w={spec.WeightType};std={ModelSpec.WeightStandardDeviation:R};seed={spec.Seed}");

    private static string Hash(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))))[..12];

    private static string HashFile(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string RequireFile(string relativePath)
    {
        string path = Path.Combine(LlamaCppSourceDirectory, relativePath);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"The model generator needs '{path}' from the pinned llama.cpp source. Run 'bash build/native/acquire-native.sh source' " +
                $"or set {LlamaCppSourceVariable} to the llama.cpp source directory.", path);
    }

    private static void DeleteStale(string directory, string pattern, string keep)
    {
        var regex = new Regex($"^{pattern}\\.gguf$", RegexOptions.CultureInvariant);
        foreach (string file in Directory.EnumerateFiles(directory, "*.gguf"))
        {
            if (regex.IsMatch(Path.GetFileName(file)) && !string.Equals(file, keep, StringComparison.Ordinal))
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // Another process may hold it open; it is only a stale cache entry.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    private static string GetBuildMetadata(string key) =>
        typeof(GeneratedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } value
            ? value.TrimEnd('/', '\\')
            : throw new InvalidOperationException($"The ModelGenerator assembly has no '{key}' build metadata; build it with dotnet build.");
}
