using LocalLlm.FuzzTarget;

namespace LocalLlm.Tests.Models;

/// <summary>
/// A deterministic fuzz, each case in a child process: mutations of the generated tiny model (hostile metadata values,
/// removed keys, changed tensor shapes and types, flipped header bytes, truncations) loaded and run for four tokens;
/// mutations of llama.cpp's vocabulary files, tokenized; and hostile API calls (context options, sampler values,
/// grammars, prompts, stop strings). Every case must either run or be refused with an exception of an expected kind;
/// a native crash, a hang or an unexpected exception fails the test and leaves the file in the temp folder. The longer run: <c>dotnet tests/LocalLlm.FuzzTarget/bin/Release/net10.0/LocalLlm.FuzzTarget.dll --fuzz --cases 3000 --seed N</c>.
/// </summary>
public sealed class ModelFuzzTests
{
    [Test]
    public void AHundredHostileCases_EachRunOrAreRefused_NoneCrashesHangsOrThrowsUnexpectedly()
    {
        ChildRun fuzzer = ChildRun.Start(TestEnvironment.FuzzTargetPath, ["--fuzz", "--cases", "100", "--seed", "20261202", "--timeout", "30"], TimeSpan.FromMinutes(3.5));

        TestContext.Out.WriteLine(fuzzer.Output);
        Assert.That(fuzzer.Exited, Is.True, "the fuzzer finished");
        Assert.That(fuzzer.ExitCode, Is.Zero, $"a hostile case crashed, hung or threw an unexpected exception:\n{fuzzer.Output}\n{fuzzer.Error}");
        Assert.That(fuzzer.Output, Does.Contain("100 cases"));
    }
}
