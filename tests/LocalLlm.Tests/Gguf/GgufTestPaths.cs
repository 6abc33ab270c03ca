using System.Reflection;

namespace LocalLlm.Tests.Gguf;

/// <summary>Paths the build stamps on the test assembly: the repository root and the pinned llama.cpp source tree.</summary>
internal static class GgufTestPaths
{
    public static string RepoRoot => GetMetadata("RepoRoot");

    public static string LlamaCppSourceDir => GetMetadata("LlamaCppSourceDir");

    public static string VocabDirectory => Path.Combine(LlamaCppSourceDir, "models");

    public static string Vocab(string name) => Path.Combine(VocabDirectory, $"ggml-vocab-{name}.gguf");

    public static IEnumerable<string> AllVocabFiles() =>
        Directory.EnumerateFiles(VocabDirectory, "ggml-vocab-*.gguf").OrderBy(p => p, StringComparer.Ordinal);

    private static string GetMetadata(string key) =>
        typeof(GgufTestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no AssemblyMetadata '{key}'; build it with dotnet build.");
}
