using LocalLlm.Native;

namespace LocalLlm.Tests.Native;

public sealed class NativeLibraryLoaderTests
{
    [Test]
    public void Initialize_LoadsFromTheBackendPackagesRuntimesFolder_WithACpuDevice()
    {
        LlamaBackendInfo info = NativeTestSetup.Backend;

        Assert.Multiple(() =>
        {
            Assert.That(info.NativeLibraryDirectory, Is.EqualTo(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native")));
            Assert.That(info.LlamaCppVersion, Is.EqualTo("v0.5.0"));
            Assert.That(info.Devices.Where(d => d.Type == LlamaDeviceType.Cpu), Is.Not.Empty);
            Assert.That(info.SystemInfo, Does.Contain("CPU"));
        });
    }

    [Test]
    public void Initialize_AgainWithTheSameDefaults_ReturnsTheSameRuntime()
    {
        Assert.That(LlamaBackend.Initialize(), Is.SameAs(NativeTestSetup.Backend));
    }

    [Test]
    public void Initialize_FromAnotherDirectoryOnceLoaded_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => LlamaBackend.Initialize(new LlamaBackendOptions { NativeLibraryDirectory = "/elsewhere" }));
        Assert.That(ex!.Message, Does.Contain("/elsewhere").And.Contain(NativeTestSetup.Backend.NativeLibraryDirectory));
    }

    [Test]
    public void Initialize_LogsTheDevicesAndWhyNoGpuWasUsed_OnceEach()
    {
        var records = NativeTestSetup.Log.Records.Where(r => r.Category == typeof(LlamaBackend).FullName).ToList();

        Assert.That(records.Count(r => r.Message.StartsWith("llama.cpp v0.5.0 loaded from", StringComparison.Ordinal)), Is.EqualTo(1));
        if (NativeTestSetup.Backend.HasGpu)
        {
            Assert.That(records.Where(r => r.Message.Contains("GPU backend not used", StringComparison.Ordinal)), Is.Empty);
        }
        else
        {
            var gpuLines = records.Where(r => r.Message.Contains("GPU backend not used", StringComparison.Ordinal)).ToList();
            Assert.That(gpuLines, Has.Count.EqualTo(1));
            // Without GPU libraries the line says which packages to add; with the Vulkan one beside the tests (from
            // the FuzzTarget, for its lavapipe probe) it says why Vulkan found no GPU.
            Assert.That(gpuLines[0].Message, Does.Contain("LocalLlm.Backend.Cuda").Or.Contain("LocalLlm.Backend.Vulkan (vulkan): the library loaded but found no Vulkan GPU"));
        }
    }

    [Test]
    public void NativeLog_RoutesLlamaCppMessagesIntoTheLlamaCppCategory()
    {
        Assert.That(NativeTestSetup.Log.Records.Where(r => r.Category == "LocalLlm.LlamaCpp"), Is.Not.Empty);
    }

    [TestCase("cuda13", "LocalLlm.Backend.Cuda13")]
    [TestCase("cuda12", "LocalLlm.Backend.Cuda12")]
    public void TryLoadGpuBackend_OnTheCudaPackagesLibrary_LoadsOnlyWhereCudaAndAGpuExist(string folder, string project)
    {
        string library = Path.Combine(TestEnvironment.RepositoryRoot, "src", project, "runtimes", "linux-x64", "native", folder, "libggml-cuda.so");
        Assert.That(library, Does.Exist, "the CUDA backend project lays out its library when the solution builds");

        string? failure = NativeLibraryLoader.TryLoadGpuBackend(library);

        if (NativeTestSetup.Backend.HasGpu)
        {
            Assert.That(failure, Is.Null);
        }
        else
        {
            TestContext.Out.WriteLine($"{folder}: {failure}");
            Assert.That(failure, Is.Not.Null.And.Not.Empty);
        }
    }

    [Test]
    public void LoadGpuBackend_FromAFolderWithoutCudaLibraries_SaysWhichPackageToAdd()
    {
        string empty = TestEnvironment.CreateTempDirectory();

        List<string> failures = NativeLibraryLoader.LoadGpuBackend(empty);

        Assert.That(failures, Has.Count.EqualTo(1));
        Assert.That(failures[0], Does.Contain("LocalLlm.Backend.Cuda13").And.Contain("LocalLlm.Backend.Cuda12"));
    }

    [Test]
    public void CandidateDirectories_WithoutAnExplicitDirectory_SearchTheAppsRuntimesFolderThenTheAppFolder()
    {
        IReadOnlyList<string> candidates = NativeLibraryLoader.CandidateDirectories(explicitDirectory: null);

        string runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        string app = Path.GetFullPath(AppContext.BaseDirectory);
        Assert.That(candidates, Does.Contain(runtimes).And.Contain(app));
        Assert.That(candidates.ToList().IndexOf(runtimes), Is.LessThan(candidates.ToList().IndexOf(app)));
    }

    [Test]
    public void CandidateDirectories_NeverOfferAnotherArchitecturesLibraries()
    {
        IReadOnlyList<string> candidates = NativeLibraryLoader.CandidateDirectories(explicitDirectory: null);

        Assert.That(candidates, Has.None.Contains("linux-arm64"), "an x64 process never tries the arm64 folder, whose libraries cannot load in it");
    }

    [TestCase(System.Runtime.InteropServices.Architecture.X64, "linux-x64")]
    [TestCase(System.Runtime.InteropServices.Architecture.Arm64, "linux-arm64")]
    [TestCase(System.Runtime.InteropServices.Architecture.Arm, null)]
    [TestCase(System.Runtime.InteropServices.Architecture.RiscV64, null)]
    public void ThePackagesRuntimesFolder_IsChosenByTheProcessArchitecture(System.Runtime.InteropServices.Architecture architecture, string? folder)
    {
        Assert.That(NativeLibraryLoader.PortableRuntimeIdentifier(architecture), Is.EqualTo(folder));
    }

    [Test]
    public void CandidateDirectories_WithAnExplicitDirectory_SearchOnlyThatDirectory()
    {
        Assert.That(NativeLibraryLoader.CandidateDirectories("/opt/llama"), Is.EqualTo(new[] { "/opt/llama" }));
    }
}
