using System.IO.Compression;
using System.Xml.Linq;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Packaging;

/// <summary>
/// Packs LocalLlm and LocalLlm.Backend.Cpu into the local feed, restores samples/PackageConsumer from it into an empty
/// package cache, runs it, and checks that it generated tokens: the packages work for an app outside this repository.
/// </summary>
[NonParallelizable]
public sealed class PackageConsumerTests
{
    private static string Feed => Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "packages");

    [OneTimeSetUp]
    public void Pack()
    {
        // Packing refuses a layout built without its cross-compiled shims (build/Native.targets); build/test.sh installs
        // the cross compiler where it may.
        string[] incomplete = Directory.GetFiles(Path.Combine(TestEnvironment.RepositoryRoot, "src"), ".incomplete", SearchOption.AllDirectories);
        Assume.That(incomplete, Is.Empty, $"a native layout was built without its compiler, so it cannot be packed: {string.Join(", ", incomplete)}");
        foreach (string project in new[] { "src/LocalLlm/LocalLlm.csproj", "src/LocalLlm.Backend.Cpu/LocalLlm.Backend.Cpu.csproj", "src/LocalLlm.Backend.Vulkan/LocalLlm.Backend.Vulkan.csproj" })
        {
            (int exitCode, string output) = DotnetCli.Run(TestEnvironment.RepositoryRoot, new Dictionary<string, string>(), "pack", project, "-c", "Release", "-o", Feed);
            Assert.That(exitCode, Is.Zero, output);
        }
    }

    [Test]
    public void TheBackendPackage_CarriesTheNativeLibrariesAndDependsOnExactlyThisLocalLlm()
    {
        string version = typeof(LlamaModel).Assembly.GetName().Version!.ToString(3);
        using ZipArchive backend = ZipFile.OpenRead(Path.Combine(Feed, $"LocalLlm.Backend.Cpu.{version}.nupkg"));
        string[] entries = backend.Entries.Select(e => e.FullName).ToArray();
        XDocument nuspec = XDocument.Load(backend.GetEntry("LocalLlm.Backend.Cpu.nuspec")!.Open());
        XNamespace ns = nuspec.Root!.Name.Namespace;

        Assert.That(entries, Does.Contain("runtimes/linux-x64/native/libllama.v0.5.0.so")
            .And.Contain("runtimes/linux-x64/native/libggml.v0.5.0.so")
            .And.Contain("runtimes/linux-x64/native/libggml-base.so")
            .And.Contain("README.md"));
        Assert.That(entries.Count(e => e.StartsWith("runtimes/linux-x64/native/libggml-cpu-", StringComparison.Ordinal)), Is.GreaterThan(5));
        Assert.That(entries, Does.Contain("runtimes/linux-arm64/native/libllama.v0.5.0.so")
            .And.Contain("runtimes/linux-arm64/native/libggml-base.so")
            .And.Contain("runtimes/linux-arm64/native/liblocalllm-chat.so"), "linux-arm64 with its cross-compiled chat shim");
        Assert.That(entries.Count(e => e.StartsWith("runtimes/linux-arm64/native/libggml-cpu-armv", StringComparison.Ordinal)), Is.GreaterThan(5));
        Assert.That(entries.Where(e => e.Contains("/native/.", StringComparison.Ordinal)), Is.Empty, "no build stamps or markers");
        Assert.That(
            nuspec.Descendants(ns + "dependency").Select(d => $"{d.Attribute("id")!.Value} {d.Attribute("version")!.Value}"),
            Is.EqualTo(new[] { $"LocalLlm [{version}]" }));
    }

    [Test]
    public void TheAppPublishedForLinuxArm64FromThePackages_RunsUnderEmulation()
    {
        // The package's runtimes/linux-arm64/native reaches an arm64 app through NuGet's own RID selection (flattened
        // beside the app), as it would for a user on a Graviton or a Raspberry Pi.
        Native.Arm64Emulator.AssumeInstalled();
        string cleanCache = TestEnvironment.CreateTempDirectory();
        string published = TestEnvironment.CreateTempDirectory();
        string consumer = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "PackageConsumer");

        (int exitCode, string output) = DotnetCli.Run(
            consumer,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = cleanCache },
            "publish", "-c", "Release", "-r", "linux-arm64", "--self-contained", "-o", published);
        Assert.That(exitCode, Is.Zero, output);
        Assert.That(new[] { "libllama.v0.5.0.so", "liblocalllm-chat.so", "libggml-cpu-armv8.0_1.so" }.Where(f => !File.Exists(Path.Combine(published, f))), Is.Empty,
            "the arm64 libraries and shim sit beside the app");

        FuzzTarget.ChildRun run = FuzzTarget.ChildRun.StartProgram(
            Native.Arm64Emulator.Path!,
            Native.Arm64Emulator.Arguments(Path.Combine(published, "PackageConsumer"), "--model", GeneratedModels.Ensure(ModelShape.Tiny), "--max-tokens", "6"),
            TimeSpan.FromMinutes(3),
            new Dictionary<string, string> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" });
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Output, Does.Contain("generated 6 tokens"));
        Assert.That(run.Output, Does.Contain(Path.TrimEndingDirectorySeparator(published)), "llama.cpp loaded from the app's own folder");
    }

    [Test]
    public void AGpuPackage_KeepsItsBackendsSubfolder_WhereTheLoaderLooks()
    {
        // The loader looks in runtimes/<rid>/native/<cuda13|cuda12|vulkan>/; NuGet appends a wildcard item's folder to
        // its package path, which once doubled it (vulkan/vulkan/).
        string version = typeof(LlamaModel).Assembly.GetName().Version!.ToString(3);
        using ZipArchive vulkan = ZipFile.OpenRead(Path.Combine(Feed, $"LocalLlm.Backend.Vulkan.{version}.nupkg"));

        Assert.That(vulkan.Entries.Select(e => e.FullName).Where(e => e.StartsWith("runtimes/", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "runtimes/linux-x64/native/vulkan/libggml-vulkan.so" }));
    }

    [Test]
    public void TheManagedPackage_CarriesXmlDocsAReadmeAndSymbols()
    {
        string version = typeof(LlamaModel).Assembly.GetName().Version!.ToString(3);
        using ZipArchive package = ZipFile.OpenRead(Path.Combine(Feed, $"LocalLlm.{version}.nupkg"));
        using ZipArchive symbols = ZipFile.OpenRead(Path.Combine(Feed, $"LocalLlm.{version}.snupkg"));

        Assert.That(package.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/LocalLlm.dll").And.Contain("lib/net10.0/LocalLlm.xml").And.Contain("README.md"));
        Assert.That(symbols.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/LocalLlm.pdb"));
    }

    [Test]
    public void AnAppReferencingThePackagesFromTheFeed_RestoresIntoACleanCache_AndGeneratesTokens()
    {
        string cleanCache = TestEnvironment.CreateTempDirectory();
        string consumer = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "PackageConsumer");
        string model = GeneratedModels.Ensure(ModelShape.Tiny);

        (int exitCode, string output) = DotnetCli.Run(
            consumer,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = cleanCache },
            "run", "-c", "Release", "--", "--model", model, "--max-tokens", "6");

        TestContext.Out.WriteLine(output);
        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.Contain("generated 6 tokens"));
        Assert.That(Directory.Exists(Path.Combine(cleanCache, "localllm.backend.cpu")), Is.True, "the backend came from the feed into the clean cache");
        Assert.That(output, Does.Contain(Path.Combine("PackageConsumer", "bin", "Release", "net10.0", "runtimes", "linux-x64", "native")), "the native libraries came from the package's runtimes folder");
    }
}
