using LocalLlm.FuzzTarget;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Native;

/// <summary>
/// The Vulkan backend (LocalLlm.Backend.Vulkan) on lavapipe, Mesa's Vulkan driver that runs on the CPU: in a child
/// process (the test host stays on the CPU backend), with <c>GGML_VK_VISIBLE_DEVICES=0</c> because ggml passes over
/// software devices unless named, every layer of a generated model on the Vulkan device, greedy tokens against the CPU:
/// identical, or parting only where the CPU's top two tokens are within rounding of each other.
/// build/test.sh installs the loader and the driver (libvulkan1, mesa-vulkan-drivers) when they are missing.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class VulkanBackendTests
{
    // Prompts whose greedy continuation changes token within the run (random weights mostly repeat one), so that a
    // difference anywhere in the distribution shows.
    [TestCase(ModelShape.Tiny, "The quick brown fox jumps over the lazy dog. Then")]
    [TestCase(ModelShape.Small, "In 1492, Columbus")]
    public async Task AModelOnTheVulkanDevice_GivesTheCpusGreedyTokens(ModelShape shape, string prompt)
    {
        // build/test.sh installs them where it may (root and apt-get); elsewhere the test is inconclusive, not passed.
        Assume.That(File.Exists("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json") && File.Exists("/usr/lib/x86_64-linux-gnu/libvulkan.so.1"), Is.True,
            "lavapipe and the Vulkan loader are not installed (apt-get install mesa-vulkan-drivers libvulkan1)");
        string path = shape == ModelShape.Tiny ? GeneratedModels.Ensure(shape) : GeneratedModels.Ensure(shape, new LlamaCppQuantizer(LlamaQuantizationType.Q4_0));
        int tokens = shape == ModelShape.Tiny ? 24 : 12;
        var cpu = new List<int>();
        var cpuAlternatives = new List<IReadOnlyList<LlamaTokenProbability>>();
        using (LlamaModel model = await LlamaModel.LoadAsync(path, new LlamaModelOptions { RepackWeights = false }))
        using (var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 }))
        {
            await foreach (LlamaGenerationUpdate update in session.StreamAsync(prompt, new LlamaGenerationOptions { MaxTokens = tokens, Sampling = LlamaSamplingOptions.Greedy, TopLogProbabilities = 3 }))
            {
                if (update.TokenId is int token)
                {
                    cpu.Add(token);
                    cpuAlternatives.Add(update.TopLogProbabilities!);
                }
            }
        }

        ChildRun child = ChildRun.Start(TestEnvironment.FuzzTargetPath, ["--gpu-greedy", path, tokens.ToString(System.Globalization.CultureInfo.InvariantCulture), prompt], TimeSpan.FromMinutes(3), new Dictionary<string, string> { ["GGML_VK_VISIBLE_DEVICES"] = "0" });
        TestContext.Out.WriteLine(child.Output);
        Assert.That(child.ExitCode, Is.Zero, child.Error);
        string Line(string key) => child.Output.Split('\n').Single(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim();

        int[] vulkan = [.. Line("tokens:").Split(',').Select(int.Parse)];
        Assert.Multiple(() =>
        {
            Assert.That(Line("devices:"), Does.Contain("Vulkan0 [Vulkan] llvmpipe"), "LlamaBackendInfo lists the Vulkan device");
            Assert.That(Line("layers:").Split(','), Is.All.EqualTo("Vulkan0"), "every layer offloaded");
        });
        GreedyComparison.AssertTheSameTokensUntilANearTie(cpu, cpuAlternatives, vulkan, tie: 0.01f, $"{shape} on Vulkan");
    }
}
