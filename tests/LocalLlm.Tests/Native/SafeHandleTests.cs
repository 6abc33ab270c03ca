using LocalLlm.Native;

namespace LocalLlm.Tests.Native;

public sealed class SafeHandleTests
{
    [Test]
    public async Task ContextHandle_KeepsItsModelAlive_AfterTheModelIsDisposed()
    {
        LlamaModel model = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { VocabularyOnly = true });
        SafeLlamaModelHandle modelHandle = model.Handle;
        nint vocab = model.Tokenizer.Vocabulary.Pointer;
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = 256;
        parameters.n_batch = 256;
        parameters.n_ubatch = 64;

        using SafeLlamaContextHandle context = SafeLlamaContextHandle.Create(modelHandle, parameters);
        Assert.That(context.IsInvalid, Is.False);
        model.Dispose();

        // The model's native memory must still be there: the context holds a reference on its handle.
        Assert.That(() => model.Handle, Throws.TypeOf<ObjectDisposedException>());
        Assert.That(NativeMethods.llama_vocab_n_tokens(vocab), Is.EqualTo(128256));
        Assert.That(NativeMethods.llama_n_ctx(context), Is.EqualTo(256u));
    }

    [Test]
    public async Task ContextHandle_DisposedTwice_FreesOnce()
    {
        using LlamaModel model = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { VocabularyOnly = true });
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = 256;

        SafeLlamaContextHandle context = SafeLlamaContextHandle.Create(model.Handle, parameters);
        context.Dispose();
        context.Dispose();

        Assert.That(context.IsClosed, Is.True);
        Assert.That(model.Tokenizer.Tokenize("still usable"), Is.Not.Empty);
    }

    [Test]
    public void SamplerChain_WithEverySamplerAdded_NamesThemInOrderAndFreesThemWithTheChain()
    {
        using SafeLlamaSamplerHandle chain = NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_k(40));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_top_p(0.95f, 1));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_min_p(0.05f, 1));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_temp(0.8f));
        NativeMethods.llama_sampler_chain_add(chain, NativeMethods.llama_sampler_init_dist(42));

        string[] names = Enumerable.Range(0, NativeMethods.llama_sampler_chain_n(chain))
            .Select(i => System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeMethods.llama_sampler_name(NativeMethods.llama_sampler_chain_get(chain, i)))!)
            .ToArray();

        Assert.That(names, Is.EqualTo(new[] { "top-k", "top-p", "min-p", "temp", "dist" }));
        Assert.That(NativeMethods.llama_sampler_get_seed(chain), Is.EqualTo(42u));
    }
}
