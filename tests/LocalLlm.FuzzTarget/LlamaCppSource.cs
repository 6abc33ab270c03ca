using System.Reflection;

namespace LocalLlm.FuzzTarget;

/// <summary>The pinned llama.cpp source the build unpacked (its models/ folder holds the vocabularies the fuzzer mutates).</summary>
internal static class LlamaCppSource
{
    public static string Directory { get; } =
        typeof(LlamaCppSource).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LlamaCppSourceDir").Value!;
}
