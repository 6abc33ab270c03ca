using System.Diagnostics;

namespace LocalLlm.Tests;

/// <summary>
/// Runs one hostile input in a child process (tests/LocalLlm.FuzzTarget), for inputs that ended the process before
/// they were checked: should a check regress, llama.cpp's abort ends the child and fails one test, not the test host.
/// </summary>
internal static class ChildProbe
{
    /// <summary>What the child did: ran the input, refused it with an exception (named in <see cref="ProbeResult.Refusal"/>), or died.</summary>
    public static ProbeResult Run(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(TestEnvironment.FuzzTargetPath);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process child = Process.Start(info)!;
        Task<string> error = child.StandardError.ReadToEndAsync();
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        if (!child.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail($"the child process for '{string.Join(' ', arguments)}' hung");
        }

        string lastLine = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? string.Empty;
        return new ProbeResult(child.ExitCode, lastLine, output.Result + error.Result);
    }

    /// <summary>Asserts the child refused the input with <typeparamref name="TException"/>; returns its one-line report.</summary>
    public static string AssertRefused<TException>(params string[] arguments)
        where TException : Exception
    {
        ProbeResult result = Run(arguments);
        Assert.That(result.ExitCode, Is.EqualTo(3), $"the child should refuse the input with an exception (exit 3), but exited {result.ExitCode}:\n{result.Output}");
        Assert.That(result.Refusal, Does.StartWith(typeof(TException).Name + ":").Or.StartWith(typeof(TException).Name + "["));
        return result.Refusal;
    }
}

/// <summary>A child process's exit code, its one-line refusal (type[failure]: message) and everything it wrote.</summary>
internal sealed record ProbeResult(int ExitCode, string Refusal, string Output);
