using System.Runtime.InteropServices.Marshalling;
using LocalLlm.Native;
using LocalLlm.Tests.Models;

namespace LocalLlm.Tests.Sampling;

/// <summary>Which samplers a configuration puts in the native chain, and in what order.</summary>
public sealed class SamplerChainOrderTests : VocabularyModelFixture
{
    private static IEnumerable<TestCaseData> ChainCases()
    {
        yield return Chain("default", LlamaSamplingOptions.Default, "top-k", "top-p", "min-p", "temp", "dist");
        yield return Chain("greedy", LlamaSamplingOptions.Greedy, "greedy");
        yield return Chain("temperature 0 keeps truncation, selects greedily", LlamaSampling.Create().Temperature(0f).Build(), "top-k", "top-p", "min-p", "greedy");
        yield return Chain("everything off", LlamaSampling.Create().TopK(0).TopP(1f).MinP(0f).Temperature(1f).Build(), "dist");
        yield return Chain(
            "everything on",
            LlamaSampling.Create()
                .Seed(1).Temperature(0.7f).DynamicTemperature(0.2f).Xtc(0.5f, 0.1f).MinP(0.1f).TopP(0.9f).TypicalP(0.9f).TopK(20)
                .TopNSigma(2f).Dry(0.8f).PresencePenalty(0.1f).Grammar("root ::= [a-z]+").LogitBias(5, -1f).Build(),
            "logit-bias", "penalties", "dry", "top-n-sigma", "top-k", "typical", "top-p", "min-p", "xtc", "temp-ext", "dist");
        yield return Chain("adaptive-p selects", LlamaSampling.Create().MinP(0.05f).TopK(0).TopP(1f).AdaptiveP(0.5f).Build(), "min-p", "temp", "adaptive-p");
        yield return Chain(
            "mirostat v1 replaces truncation and penalties",
            LlamaSampling.Create().RepetitionPenalty(1.2f).LogitBias(1, 1f).Mirostat(LlamaMirostatVersion.V1).Build(),
            "logit-bias", "temp", "mirostat");
        yield return Chain("mirostat v2 at temperature 1", LlamaSampling.Create().Temperature(1f).Mirostat(LlamaMirostatVersion.V2).Build(), "mirostat-v2");
        yield return Chain("greedy wins over mirostat", LlamaSampling.Create(LlamaSamplingOptions.Greedy).Mirostat(LlamaMirostatVersion.V2).Build(), "greedy");
        yield return Chain("penalty window 0 disables penalties", LlamaSampling.Create(LlamaSamplingOptions.Greedy).RepetitionPenalty(1.5f, lastN: 0).Build(), "greedy");
        yield return Chain("DRY window 0 disables DRY", LlamaSampling.Create(LlamaSamplingOptions.Greedy).Dry(1f, penaltyLastN: 0).Build(), "greedy");
        yield return Chain("XTC threshold above 0.5 disables XTC", LlamaSampling.Create(LlamaSamplingOptions.Greedy).Xtc(1f, 0.6f).Build(), "greedy");
        yield return Chain("top-n-sigma 0 disables it", LlamaSampling.Create(LlamaSamplingOptions.Greedy).TopNSigma(0f).Build(), "greedy");
    }

    [TestCaseSource(nameof(ChainCases))]
    public void Chain_HasOnlyTheEnabledSamplers_InCanonicalOrder(LlamaSamplingOptions options, string[] expected)
    {
        using SafeLlamaSamplerHandle chain = options.CreateNativeChain(Model.Tokenizer);

        Assert.That(SamplerChainProbe.Names(chain), Is.EqualTo(expected));
    }

    [Test]
    public void Default_MatchesLlamaCppCommonSamplerInit_WithoutItsNoOpSamplers()
    {
        const uint Seed = 1234;
        using SafeLlamaSamplerHandle ours = LlamaSampling.Create().Seed(Seed).Build().CreateNativeChain(Model.Tokenizer);
        using SafeLlamaSamplerHandle llamaCpp = CommonSamplerInitDefaults(Seed);

        // llama.cpp adds every sampler and lets the disabled ones be named "?name" no-ops; it always uses temp-ext,
        // which with a dynamic range of 0 is plain temperature.
        string[] enabled = [.. SamplerChainProbe.Names(llamaCpp).Where(n => !n.StartsWith('?')).Select(n => n == "temp-ext" ? "temp" : n)];
        Assert.That(SamplerChainProbe.Names(ours), Is.EqualTo(enabled));

        int vocabularySize = Model.Tokenizer.VocabularySize;
        for (int draw = 0; draw < 50; draw++)
        {
            float[] logits = SamplerChainProbe.RandomLogits(vocabularySize, seed: draw);
            Assert.That(SamplerChainProbe.SelectAndAccept(ours, logits), Is.EqualTo(SamplerChainProbe.SelectAndAccept(llamaCpp, logits)), $"draw {draw}");
        }
    }

    [Test]
    public void LogitBias_ForATokenOutsideTheVocabulary_ThrowsWhenTheChainIsCreated()
    {
        int size = Model.Tokenizer.VocabularySize;
        LlamaSamplingOptions options = LlamaSampling.Create().LogitBias(size, -1f).Build();

        ArgumentException? exception = Assert.Throws<ArgumentException>(() => options.CreateNativeChain(Model.Tokenizer));

        Assert.That(exception!.ParamName, Is.EqualTo("tokenizer"));
        Assert.That(exception.Message, Does.Contain($"token {size}").And.Contain($"(0 to {size - 1})"));
    }

    [Test]
    public void CreateNativeChain_NullTokenizer_ThrowsArgumentNullException()
    {
        ArgumentNullException? exception = Assert.Throws<ArgumentNullException>(() => LlamaSamplingOptions.Default.CreateNativeChain(null!));

        Assert.That(exception!.ParamName, Is.EqualTo("tokenizer"));
    }

    /// <summary>What common/sampling.cpp's common_sampler_init builds for common_params_sampling's defaults.</summary>
    private unsafe SafeLlamaSamplerHandle CommonSamplerInitDefaults(uint seed)
    {
        nint vocab = Model.Tokenizer.Vocabulary.Pointer;
        int nVocab = Model.Tokenizer.VocabularySize;
        SafeLlamaSamplerHandle chain = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
        string[] breakers = ["\n", ":", "\"", "*"];
        nint[] pointers = [.. breakers.Select(b => (nint)Utf8StringMarshaller.ConvertToUnmanaged(b))];
        try
        {
            fixed (nint* p = pointers)
            {
                NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_penalties(nVocab, 64, 1f, 0f, 0f));
                NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_dry(vocab, 0f, 1.75f, 2, 64, (byte**)p, (nuint)pointers.Length));
            }
        }
        finally
        {
            foreach (nint pointer in pointers)
            {
                Utf8StringMarshaller.Free((byte*)pointer);
            }
        }

        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_n_sigma(-1f));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_k(40));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_typical(1f, 0));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_p(0.95f, 0));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_min_p(0.05f, 0));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_xtc(0f, 0.1f, 0, seed));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_temp_ext(0.8f, 0f, 1f));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_dist(seed));
        return chain;
    }

    private static TestCaseData Chain(string name, LlamaSamplingOptions options, params string[] expected) =>
        new TestCaseData(options, expected).SetArgDisplayNames(name);
}
