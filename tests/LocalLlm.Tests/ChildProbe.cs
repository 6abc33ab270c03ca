using LocalLlm.FuzzTarget;

namespace LocalLlm.Tests;

/// <summary>
/// Runs one hostile input in a child process (tests/LocalLlm.FuzzTarget), for inputs that ended the process before
/// they were checked: should a check regress, llama.cpp's abort ends the child and fails one test, not the test host.
/// </summary>
internal static class ChildProbe
{
    /// <summary>What the child did: ran the input, refused it with an exception (named on its last stderr line), or died.</summary>
    public static ChildRun Run(params string[] arguments)
    {
        ChildRun child = ChildRun.Start(TestEnvironment.FuzzTargetPath, arguments, TimeSpan.FromSeconds(60));
        if (!child.Exited)
        {
            Assert.Fail($"the child process for '{string.Join(' ', arguments)}' hung");
        }

        return child;
    }

    /// <summary>Asserts the child refused the input with <typeparamref name="TException"/>; returns its one-line report.</summary>
    public static string AssertRefused<TException>(params string[] arguments)
        where TException : Exception
    {
        ChildRun result = Run(arguments);
        Assert.That(result.ExitCode, Is.EqualTo(3), $"the child should refuse the input with an exception (exit 3), but exited {result.ExitCode}:\n{result.Output}{result.Error}");
        Assert.That(result.LastErrorLine, Does.StartWith(typeof(TException).Name + ":").Or.StartWith(typeof(TException).Name + "["));
        return result.LastErrorLine;
    }
}
