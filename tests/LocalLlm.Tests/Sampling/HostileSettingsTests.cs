using System.Diagnostics;
using LocalLlm.ModelGenerator;
using LocalLlm.Native;
using LocalLlm.Tests.Inference;

namespace LocalLlm.Tests.Sampling;

/// <summary>Settings that crashed llama.cpp, hung it or let it allocate without bound are refused or bounded at the edge.</summary>
public sealed class HostileSettingsTests : TinyModelFixture
{
    [TestCase("root ::= \"a\"{5,2}", "minimum above its maximum")]
    [TestCase("root ::= \"a\"{0,1000000000}", "above 100000")]
    [TestCase("root ::= \"a\"{99999999999999999999999}", "above 100000")]
    public void AGrammarRepetitionThatWouldWrapOrExplode_IsRefused(string grammar, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => LlamaSampling.Create().Grammar(grammar));

        Assert.That(ex!.ParamName, Is.EqualTo("grammar"));
        Assert.That(ex.Message, Does.Contain(reason));
    }

    [Test]
    public void AGrammarNestedFiftyThousandDeep_IsRefused_AndTwoHundredDeepIsFine()
    {
        string Nested(int depth) => "root ::= " + new string('(', depth) + "\"a\"" + new string(')', depth);

        var ex = Assert.Throws<ArgumentException>(() => LlamaSampling.Create().Grammar(Nested(50_000)));
        using NativeSampler fine = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(Nested(200)).Build().CreateNativeSampler(Model.Tokenizer);

        Assert.That(ex!.Message, Does.Contain("more than 1000 deep"));
    }

    [Test]
    public void BracesInsideLiteralsClassesAndComments_AreNotRepetitions()
    {
        const string grammar = "root ::= \"{5,2}\" [{}] x # {9,1}\nx ::= \"b\"{2,3}";

        using NativeSampler sampler = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(grammar).Build().CreateNativeSampler(Model.Tokenizer);

        Assert.That(sampler, Is.Not.Null);
    }

    [Test]
    public void AGrammarThatNoCharacterSatisfies_FailsTheGeneration_InsteadOfFinishingWithBrokenText()
    {
        using LlamaSession session = CreateSession(contextSize: 256);
        LlamaSamplingOptions sampling = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(@"root ::= [^\x00-\U0010FFFF]").Build();

        var ex = Assert.ThrowsAsync<LlamaException>(() => session.CompleteAsync("The llama", new LlamaGenerationOptions { MaxTokens = 8, Sampling = sampling }));

        Assert.That(ex!.Message, Does.Contain("not well-formed UTF-8"));
    }

    [Test]
    public void AGrammarNestedFiftyThousandDeep_IsRefusedInAChildProcess_WhereLlamaCppOverflowedItsStack()
    {
        string grammar = "root ::= " + new string('(', 50_000) + "\"a\"" + new string(')', 50_000);

        string refusal = ChildProbe.AssertRefused<ArgumentException>("--run", GeneratedModels.Ensure(ModelShape.Tiny), "--grammar", grammar);

        Assert.That(refusal, Does.Contain("more than 1000 deep"));
    }

    [Test]
    public async Task APenaltyWindowOfABillionTokens_IsBoundedByTheContext()
    {
        using LlamaSession session = CreateSession(contextSize: 256);
        LlamaSamplingOptions sampling = LlamaSampling.Create(LlamaSamplingOptions.Greedy).RepetitionPenalty(1.1f, lastN: 1_000_000_000).Dry(0.8f, penaltyLastN: 1_000_000_000).Build();
        long before = Process.GetCurrentProcess().PrivateMemorySize64;

        LlamaCompletion completion = await session.CompleteAsync("The llama", new LlamaGenerationOptions { MaxTokens = 4, Sampling = sampling });

        long grownMiB = (Process.GetCurrentProcess().PrivateMemorySize64 - before) / (1024 * 1024);
        Assert.That(completion.TokenIds, Has.Count.EqualTo(4));
        Assert.That(grownMiB, Is.LessThan(500), "llama.cpp allocated the 4 GB ring buffers before the window was bounded");
    }

    [TestCase(null)]
    [TestCase("")]
    public void AStopStringThatIsNullOrEmpty_IsRefusedNamingTheSetting(string? stop)
    {
        using LlamaSession session = CreateSession();

        var ex = Assert.Throws<ArgumentException>(() => session.StreamAsync("The llama", new LlamaGenerationOptions { StopStrings = [stop!] }));

        Assert.That(ex!.ParamName, Is.EqualTo("StopStrings"));
    }

    [Test]
    public void QuantizingAFileOntoItself_IsRefused()
    {
        string copy = Path.Combine(TestEnvironment.CreateTempDirectory(), "tiny.gguf");
        File.Copy(GeneratedModels.Ensure(ModelShape.Tiny), copy);

        // In a child process: before the check, llama.cpp's writes into its own mapped input ended it with SIGBUS.
        string refusal = ChildProbe.AssertRefused<ArgumentException>("--quantize-onto-itself", copy);

        Assert.That(refusal, Does.Contain("outputPath"));
        Assert.That(GgufFile(copy), Is.True, "the input is untouched");
    }

    private static bool GgufFile(string path) => LocalLlm.Gguf.GgufFile.Read(path).Tensors.Count > 0;
}
