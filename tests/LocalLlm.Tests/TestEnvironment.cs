using System.Reflection;

namespace LocalLlm.Tests;

/// <summary>Paths the build hands to the tests (see LocalLlm.Tests.csproj).</summary>
internal static class TestEnvironment
{
    public static string LlamaCppSourceDirectory { get; } = Metadata("LlamaCppSourceDir");

    public static string RepositoryRoot { get; } = Metadata("RepoRoot");

    /// <summary>The mutation fuzzer (tests/LocalLlm.FuzzTarget), built beside the tests.</summary>
    public static string FuzzTargetPath { get; } = Metadata("FuzzTargetPath");

    /// <summary>The platform probe (tests/LocalLlm.PlatformProbe), built beside the tests for this machine.</summary>
    public static string PlatformProbePath { get; } = Metadata("PlatformProbePath");

    /// <summary>The build configuration the tests were built in (Debug or Release).</summary>
    public static string Configuration { get; } = Metadata("Configuration");

    /// <summary>A vocab-only GGUF shipped with llama.cpp's source, e.g. <c>llama-bpe</c>.</summary>
    public static string VocabularyPath(string name) => Path.Combine(LlamaCppSourceDirectory, "models", $"ggml-vocab-{name}.gguf");

    /// <summary>Every vocab-only GGUF shipped with llama.cpp's source.</summary>
    public static IEnumerable<string> AllVocabularyFiles() =>
        Directory.EnumerateFiles(Path.Combine(LlamaCppSourceDirectory, "models"), "ggml-vocab-*.gguf").Order(StringComparer.Ordinal);

    /// <summary>A fresh directory under the test run's temp folder.</summary>
    /// <summary>The full path of <paramref name="program"/> in the first PATH directory that has it, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    public static string CreateTempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "localllm-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no [AssemblyMetadata(\"{key}\")]; build it with dotnet build.");
}
