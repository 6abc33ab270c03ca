using System.Diagnostics;

namespace LocalLlm.Tests.Models;

/// <summary>
/// A deterministic mutation fuzz of the generated tiny model: hostile metadata values, removed keys, changed tensor
/// shapes and types, flipped header bytes and truncations, each loaded and run for four tokens in a child process.
/// Every case must either run or be refused with an exception; a native crash or a hang fails the test and leaves
/// the file in the temp folder. The longer run: <c>dotnet tests/LocalLlm.FuzzTarget/bin/Release/net10.0/LocalLlm.FuzzTarget.dll --fuzz --cases 3000 --seed N</c>.
/// </summary>
public sealed class ModelFuzzTests
{
    [Test]
    public void AHundredMutatedModels_EachRunOrAreRefused_NoneCrashesOrHangs()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { TestEnvironment.FuzzTargetPath, "--fuzz", "--cases", "100", "--seed", "20261202", "--timeout", "30" })
        {
            info.ArgumentList.Add(argument);
        }

        using Process fuzzer = Process.Start(info)!;
        Task<string> output = fuzzer.StandardOutput.ReadToEndAsync();
        Task<string> error = fuzzer.StandardError.ReadToEndAsync();
        bool exited = fuzzer.WaitForExit(TimeSpan.FromMinutes(3.5));
        if (!exited)
        {
            fuzzer.Kill(entireProcessTree: true);
        }

        TestContext.Out.WriteLine(output.Result);
        Assert.That(exited, Is.True, "the fuzzer finished");
        Assert.That(fuzzer.ExitCode, Is.Zero, $"a mutated model crashed or hung the process:\n{output.Result}\n{error.Result}");
        Assert.That(output.Result, Does.Contain("100 cases"));
    }
}
