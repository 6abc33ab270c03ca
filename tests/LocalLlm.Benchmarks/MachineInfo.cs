using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace LocalLlm.Benchmarks;

/// <summary>What the figures were measured on, so runs from different machines or commits can be told apart.</summary>
internal sealed record MachineInfo
{
    public required string CpuModel { get; init; }

    public required int LogicalCores { get; init; }

    public required string OperatingSystem { get; init; }

    public required string Runtime { get; init; }

    public required string LlamaCppVersion { get; init; }

    public required string LlamaCppSystemInfo { get; init; }

    public required string NativeLibraryDirectory { get; init; }

    public string? GitCommit { get; init; }

    public bool? GitDirty { get; init; }

    public string? LoadAverageAtStart { get; init; }

    public static MachineInfo Collect(LlamaBackendInfo backend) => new()
    {
        CpuModel = ReadCpuModel(),
        LogicalCores = Environment.ProcessorCount,
        OperatingSystem = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
        LlamaCppVersion = backend.LlamaCppVersion,
        LlamaCppSystemInfo = backend.SystemInfo.Trim(),
        NativeLibraryDirectory = backend.NativeLibraryDirectory,
        GitCommit = Git("rev-parse HEAD"),
        GitDirty = Git("status --porcelain --untracked-files=no") is { } status ? status.Length > 0 : null,
        LoadAverageAtStart = ReadLoadAverage(),
    };

    public static string RepoRoot =>
        typeof(MachineInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoRoot")?.Value?.TrimEnd('/') ?? Directory.GetCurrentDirectory();

    public static string? ReadLoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string ReadCpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string? Git(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", $"-C \"{RepoRoot}\" {arguments}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using Process? process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
