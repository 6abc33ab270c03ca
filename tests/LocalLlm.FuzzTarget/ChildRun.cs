using System.Diagnostics;

namespace LocalLlm.FuzzTarget;

/// <summary>
/// One run of a .NET program in a child process, its output read as it comes (so a chatty child cannot block on a
/// full pipe) and the whole process tree killed if it outlives its time. Shared with the test project, which links
/// this file.
/// </summary>
internal sealed record ChildRun(bool Exited, int ExitCode, string Output, string Error)
{
    /// <summary>The last line the child wrote to stderr (a probe's one-line report), or empty.</summary>
    public string LastErrorLine => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? string.Empty;

    /// <summary>Runs <c>dotnet <paramref name="assembly"/> <paramref name="arguments"/></c>, waiting at most <paramref name="timeout"/>.</summary>
    public static ChildRun Start(string assembly, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null) =>
        StartProgram("dotnet", [assembly, .. arguments], timeout, environment);

    /// <summary>Runs <paramref name="program"/> (found on PATH unless a path) with <paramref name="arguments"/>, waiting at most <paramref name="timeout"/>.</summary>
    public static ChildRun StartProgram(string program, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process child = Process.Start(info)!;
        Task<string> error = child.StandardError.ReadToEndAsync();
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        if (!child.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return new ChildRun(false, -1, output.Result, error.Result);
        }

        return new ChildRun(true, child.ExitCode, output.Result, error.Result);
    }
}
