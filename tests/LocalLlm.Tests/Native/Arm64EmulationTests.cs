using System.Globalization;
using LocalLlm.FuzzTarget;
using LocalLlm.ModelGenerator;
using LocalLlm.Tests.Packaging;
using LocalLlm.Tests.Rpc;

namespace LocalLlm.Tests.Native;

/// <summary>
/// linux-arm64, proven on an x64 machine: the platform probe (tests/LocalLlm.PlatformProbe) published self-contained
/// for linux-arm64 runs under qemu-user on the CPU package's arm64 libraries and cross-compiled chat shim, and gives
/// what the same probe gives natively on x64; the arm64 rpc-server serves an x64 client; the ABI probe compiled for arm64
/// prints the x64 layouts.
/// build/test.sh installs the emulator and the cross compiler (qemu-user-static, g++-aarch64-linux-gnu) when missing.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class Arm64EmulationTests
{
    private const string CrossCompiler = "aarch64-linux-gnu-gcc";
    private const int ElfAarch64 = 183;
    private const string ToolCall = @"^get_weather \{""city"":""(Oslo|Paris|Lima)""\}$";
    private static readonly TimeSpan EmulatedRunLimit = TimeSpan.FromMinutes(4);

    private string? publishedProbe;

    [OneTimeSetUp]
    public void PublishTheProbeForArm64()
    {
        Arm64Emulator.AssumeInstalled();
        string[] crossCompiled = ["liblocalllm-chat.so", "libggml-rpc.so", "rpc-server"];
        Assume.That(crossCompiled.Select(f => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-arm64", "native", f)).Where(f => !File.Exists(f)), Is.Empty,
            "the build had no arm64 cross compiler, so the arm64 shims are missing (apt-get install g++-aarch64-linux-gnu, then build again)");

        publishedProbe = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "arm64-probe");
        if (Directory.Exists(publishedProbe))
        {
            Directory.Delete(publishedProbe, recursive: true);
        }

        (int exitCode, string output) = DotnetCli.Run(
            TestEnvironment.RepositoryRoot,
            new Dictionary<string, string>(),
            "publish", "tests/LocalLlm.PlatformProbe/LocalLlm.PlatformProbe.csproj", "-c", TestEnvironment.Configuration, "-r", "linux-arm64", "--self-contained", "-o", publishedProbe);
        Assert.That(exitCode, Is.Zero, output);
    }

    [Test]
    public void ThePublishedProbe_CarriesTheArm64LibrariesAndShim()
    {
        string native = Path.Combine(publishedProbe!, "runtimes", "linux-arm64", "native");
        Assert.Multiple(() =>
        {
            Assert.That(ElfMachine(Path.Combine(publishedProbe!, "LocalLlm.PlatformProbe")), Is.EqualTo(ElfAarch64), "the app host");
            foreach (string library in new[] { "libllama.v0.5.0.so", "libggml-base.so", "libllama-common.so", "liblocalllm-chat.so" })
            {
                Assert.That(ElfMachine(Path.Combine(native, library)), Is.EqualTo(ElfAarch64), library);
            }

            Assert.That(Directory.GetFiles(native, "libggml-cpu-armv*.so"), Has.Length.GreaterThan(5), "one CPU variant per arm64 family");
        });
    }

    [Test]
    public void TheProbeUnderEmulation_GivesTheX64RunsTokensAndRendering_AndCallsATool()
    {
        string template = Path.Combine(TestEnvironment.LlamaCppSourceDirectory, "models", "templates", "Qwen-Qwen3-0.6B.jinja");
        (Dictionary<string, string> native, Dictionary<string, string> emulated) = RunBoth(GeneratedModels.Ensure(ModelShape.Tiny), "The quick brown fox jumps over the lazy dog. Then", template);

        Assert.Multiple(() =>
        {
            Assert.That(native["rid"], Is.EqualTo("linux-x64 (X64)"));
            Assert.That(emulated["rid"], Is.EqualTo("linux-arm64 (Arm64)"), "the process really ran as arm64");
            Assert.That(emulated["native"], Is.EqualTo(Path.Combine("runtimes", "linux-arm64", "native")), "the loader chose the arm64 libraries by RID");
            Assert.That(emulated["rendered"], Is.EqualTo(native["rendered"]), "the chat shim renders Qwen3's template byte for byte");
            Assert.That(native["tool call"], Does.Match(ToolCall));
            Assert.That(emulated["tool call"], Does.Match(ToolCall), "a call the template, the shim's grammar and its parser made on arm64");
        });

        // Here the F16 model's 24 tokens come out identical, log-probabilities within 0.0015; another host's x64 kernels
        // may sum in yet another order, so the rule is the same as for the quantized model, with F16's tighter bounds.
        AssertTheSameTokensUntilANearTie(native, emulated, tie: 0.01f, logProbabilityTolerance: 0.005f);
    }

    [Test]
    public void TheQuantizedModelUnderEmulation_GivesTheX64RunsTokens_UntilANearTie()
    {
        string model = GeneratedModels.Ensure(ModelShape.Small, new LlamaCppQuantizer(LlamaQuantizationType.Q4_0));
        (Dictionary<string, string> native, Dictionary<string, string> emulated) = RunBoth(model, "In 1492, Columbus", template: null);

        // Here 22 of 24 agree and the runs part on a 0.006 tie; log-probabilities agree within 0.02 until then.
        AssertTheSameTokensUntilANearTie(native, emulated, tie: 0.05f, logProbabilityTolerance: 0.05f);
    }

    [Test]
    public async Task AModelOnTheArm64RpcServer_GivesTheLocalGreedyTokens()
    {
        string path = GeneratedModels.Ensure(ModelShape.Tiny);
        var greedy = new LlamaGenerationOptions { MaxTokens = 16, Sampling = LlamaSamplingOptions.Greedy };
        const string Prompt = "The quick brown fox jumps over the lazy dog. Then";
        IReadOnlyList<int> local;
        using (LlamaModel model = await LlamaModel.LoadAsync(path))
        using (var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 }))
        {
            local = (await session.CompleteAsync(Prompt, greedy)).TokenIds;
        }

        using RpcWorkerProcess worker = await RpcWorkerProcess.StartEmulatedArm64RpcServerAsync();
        LlamaRpcWorkerInfo info = await LlamaRpcWorker.ProbeAsync(worker.Endpoint);
        IReadOnlyList<int> remote;
        IReadOnlyList<string> layers;
        using (LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { RpcServers = [worker.Endpoint], GpuLayerCount = -1 }))
        using (var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 }))
        {
            layers = model.LayerDevices;
            remote = (await session.CompleteAsync(Prompt, greedy)).TokenIds;
        }

        Assert.Multiple(() =>
        {
            Assert.That(info.Devices, Has.Count.EqualTo(1), "the arm64 worker offers its CPU");
            Assert.That(layers, Is.Not.Empty.And.All.EqualTo($"{worker.Endpoint}#0"), "every layer on the arm64 worker's device");
            Assert.That(remote, Is.EqualTo(local), "an x64 client and an arm64 worker compute the x64 run's tokens");
        });
    }

    [Test]
    public void TheAbiProbeCompiledForArm64_PrintsTheLayoutsTheX64BindingsWereCheckedAgainst()
    {
        Assume.That(TestEnvironment.FindOnPath(CrossCompiler), Is.Not.Null, $"{CrossCompiler} is not installed (apt-get install gcc-aarch64-linux-gnu)");
        string work = TestEnvironment.CreateTempDirectory();
        try
        {
            NativeAbiProbe x64 = NativeAbiProbe.Run(TestEnvironment.LlamaCppSourceDirectory, Directory.CreateDirectory(Path.Combine(work, "x64")).FullName);
            NativeAbiProbe arm64 = NativeAbiProbe.Run(
                TestEnvironment.LlamaCppSourceDirectory,
                Directory.CreateDirectory(Path.Combine(work, "arm64")).FullName,
                CrossCompiler,
                [Arm64Emulator.Path!, "-L", Arm64Emulator.Sysroot]);

            Assert.That(ElfMachine(Path.Combine(work, "arm64", "abi_probe")), Is.EqualTo(ElfAarch64));
            Assert.That(arm64.Structs.Keys, Is.SupersetOf(new[] { "llama_model_params", "llama_context_params", "llama_batch", "ggml_threadpool_params" }));
            Assert.That(arm64.Output.Split('\n'), Is.EqualTo(x64.Output.Split('\n')), "every struct size, field offset and enum value is the same on arm64");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // Arm's and x64's kernels (each repacked for its CPU) sum in other orders: the greedy runs may part on a near tie,
    // and agree in distribution until then.
    private static void AssertTheSameTokensUntilANearTie(Dictionary<string, string> native, Dictionary<string, string> emulated, float tie, float logProbabilityTolerance)
    {
        int[] x64Tokens = [.. native["tokens"].Split(',').Select(int.Parse)];
        LlamaTokenProbability[][] x64Alternatives = [.. native["top three"].Split(';').Select(step => step.Split('|')
            .Select(a => a.Split(' ')).Select(a => new LlamaTokenProbability(int.Parse(a[0], CultureInfo.InvariantCulture), string.Empty, float.Parse(a[1], CultureInfo.InvariantCulture))).ToArray())];
        int[] arm64Tokens = [.. emulated["tokens"].Split(',').Select(int.Parse)];
        int parted = GreedyComparison.AssertTheSameTokensUntilANearTie(x64Tokens, x64Alternatives, arm64Tokens, tie, "arm64 against x64");

        int same = parted < 0 ? x64Tokens.Length : parted;
        Assert.That(Numbers(emulated["log-probabilities"])[..same], Is.EqualTo(Numbers(native["log-probabilities"])[..same]).Within(logProbabilityTolerance),
            "each chosen token's log-probability while the tokens agree");
    }

    // The probe natively, then published for arm64 under the emulator; each one's "key: value" lines.
    // Prompts are chosen so that the greedy continuation changes token (random weights mostly repeat one), so that a
    // shift anywhere in the distribution shows.
    private (Dictionary<string, string> Native, Dictionary<string, string> Emulated) RunBoth(string model, string prompt, string? template)
    {
        string[] arguments = template is null ? [model, prompt] : [model, prompt, template];
        ChildRun x64 = ChildRun.Start(TestEnvironment.PlatformProbePath, arguments, TimeSpan.FromMinutes(2));
        ChildRun arm64 = ChildRun.StartProgram(Arm64Emulator.Path!, Arm64Emulator.Arguments(Path.Combine(publishedProbe!, "LocalLlm.PlatformProbe"), arguments), EmulatedRunLimit);
        TestContext.Out.WriteLine($"x64:\n{x64.Output}\narm64:\n{arm64.Output}");
        Assert.That(x64.ExitCode, Is.Zero, $"x64 probe: {x64.Error}");
        Assert.That(arm64.Exited, Is.True, $"the emulated probe did not finish within {EmulatedRunLimit}");
        Assert.That(arm64.ExitCode, Is.Zero, $"arm64 probe: {arm64.Error}");
        return (Lines(x64.Output), Lines(arm64.Output));
    }

    // e_machine, the 16-bit field at offset 18 of an ELF header.
    private static int ElfMachine(string path)
    {
        byte[] header = new byte[20];
        using FileStream file = File.OpenRead(path);
        file.ReadExactly(header);
        Assert.That(header[..4], Is.EqualTo("\u007fELF"u8.ToArray()), $"{path} is not an ELF file");
        return BitConverter.ToUInt16(header, 18);
    }

    private static Dictionary<string, string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(": ", 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1].TrimEnd('\r'), StringComparer.Ordinal);

    private static float[] Numbers(string list) => [.. list.Split(',').Select(n => float.Parse(n, CultureInfo.InvariantCulture))];
}
