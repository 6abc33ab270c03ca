using System.Text.RegularExpressions;
using LocalLlm.Gguf;
using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>Turns a bad model path into an exception that names the path and the problem, before and after llama.cpp sees it.</summary>
internal static partial class ModelFileCheck
{
    /// <summary>
    /// Returns the full path of a file that exists and is a well-formed GGUF, or throws; logs to
    /// <paramref name="logger"/> the values llama.cpp accepts but that look wrong.
    /// </summary>
    public static string Validate(string path, ILogger logger)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new LlamaModelLoadException(fullPath, LlamaModelLoadFailure.PathIsDirectory,
                $"Cannot load model '{fullPath}': the path is a directory. Pass the path of a .gguf file.");
        }

        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"Cannot load model '{fullPath}': the file does not exist.", fullPath);
        }

        // Reading the header, metadata and tensor table rejects empty, foreign, truncated and future-version
        // files with a precise reason, before llama.cpp maps the file.
        GgufFile gguf = GgufFile.Read(fullPath);
        CheckMeaning(fullPath, gguf);
        WarnAboutNonsense(fullPath, gguf, logger);
        return fullPath;
    }

    /// <summary>Classifies llama.cpp's logged reason for a failed load.</summary>
    public static LlamaModelLoadException DescribeNativeFailure(string fullPath, IReadOnlyList<string> nativeErrors)
    {
        string? architectureError = nativeErrors.LastOrDefault(line => line.Contains("unknown model architecture", StringComparison.Ordinal));
        if (architectureError is not null)
        {
            Match match = QuotedName().Match(architectureError);
            string architecture = match.Success ? match.Groups[1].Value : "(unknown)";
            return new LlamaModelLoadException(fullPath, LlamaModelLoadFailure.UnsupportedArchitecture,
                $"Cannot load model '{fullPath}': its architecture '{architecture}' (general.architecture) is not supported by the bundled llama.cpp {Native.NativeLibraryLoader.LlamaCppVersion}.");
        }

        string reason = nativeErrors.Count > 0 ? string.Join(" ", nativeErrors.TakeLast(3)) : "llama.cpp gave no reason";
        return new LlamaModelLoadException(fullPath, LlamaModelLoadFailure.NativeLoadFailed,
            $"Cannot load model '{fullPath}': llama.cpp rejected it: {reason}");
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedName();
}
