using LocalLlm.ModelGenerator;
using LocalLlm.Native;

namespace LocalLlm.Tests.Native;

/// <summary>The context, batch, decode, logits, memory and abort bindings work against real llama.cpp.</summary>
public sealed class DecodeBindingTests
{
    private LlamaModel _model = null!;

    [OneTimeSetUp]
    public async Task LoadTiny() => _model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));

    [OneTimeTearDown]
    public void DisposeTiny() => _model?.Dispose();

    [Test]
    public unsafe void Decode_APromptThenOneToken_GivesFiniteLogitsAndFillsTheKvCache()
    {
        using SafeLlamaContextHandle context = CreateContext();
        int[] prompt = _model.Tokenizer.Tokenize("The llama said hello");

        fixed (int* tokens = prompt)
        {
            Assert.That(NativeMethods.llama_decode(context, NativeMethods.llama_batch_get_one(tokens, prompt.Length)), Is.EqualTo(0));
        }

        float* logits = NativeMethods.llama_get_logits_ith(context, -1);
        var row = new ReadOnlySpan<float>(logits, _model.Tokenizer.VocabularySize);
        Assert.That(row.ToArray().All(float.IsFinite), Is.True);
        int next = row.IndexOf(TensorPrimitivesMax(row));

        int nextToken = next;
        Assert.That(NativeMethods.llama_decode(context, NativeMethods.llama_batch_get_one(&nextToken, 1)), Is.EqualTo(0));

        nint memory = NativeMethods.llama_get_memory(context);
        Assert.That(NativeMethods.llama_memory_seq_pos_max(memory, 0), Is.EqualTo(prompt.Length));
        Assert.That(NativeMethods.llama_memory_seq_rm(memory, 0, -1, -1), Is.True);
        Assert.That(NativeMethods.llama_memory_seq_pos_max(memory, 0), Is.EqualTo(-1));
    }

    [Test]
    public unsafe void Decode_WithAnAbortCallbackThatSaysStop_ReturnsAborted()
    {
        using SafeLlamaContextHandle context = CreateContext();
        NativeMethods.llama_set_abort_callback(context, &AlwaysAbort, nint.Zero);
        int[] prompt = _model.Tokenizer.Tokenize("Stop right there");

        int status;
        fixed (int* tokens = prompt)
        {
            status = NativeMethods.llama_decode(context, NativeMethods.llama_batch_get_one(tokens, prompt.Length));
        }

        Assert.That(status, Is.EqualTo(2), "llama_decode returns 2 when the abort callback stops it");
    }

    [Test]
    public unsafe void Batch_InitAndFree_RoundTripsTokensPositionsAndSequences()
    {
        llama_batch batch = NativeMethods.llama_batch_init(8, 0, 2);
        try
        {
            using SafeLlamaContextHandle context = CreateContext();
            int[] prompt = _model.Tokenizer.Tokenize("two sequences");
            for (int i = 0; i < prompt.Length; i++)
            {
                batch.token[i] = prompt[i];
                batch.pos[i] = i;
                batch.n_seq_id[i] = 1;
                batch.seq_id[i][0] = 1;
                batch.logits[i] = (sbyte)(i == prompt.Length - 1 ? 1 : 0);
            }

            batch.n_tokens = prompt.Length;

            Assert.That(NativeMethods.llama_decode(context, batch), Is.EqualTo(0));
            nint memory = NativeMethods.llama_get_memory(context);
            Assert.That(NativeMethods.llama_memory_seq_pos_max(memory, 1), Is.EqualTo(prompt.Length - 1));
            Assert.That(NativeMethods.llama_memory_seq_pos_max(memory, 0), Is.EqualTo(-1));
        }
        finally
        {
            NativeMethods.llama_batch_free(batch);
        }
    }

    private SafeLlamaContextHandle CreateContext()
    {
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = 256;
        parameters.n_batch = 256;
        parameters.n_ubatch = 256;
        parameters.n_seq_max = 2;
        parameters.n_threads = 2;
        parameters.n_threads_batch = 2;
        SafeLlamaContextHandle context = SafeLlamaContextHandle.Create(_model.Handle, parameters);
        Assert.That(context.IsInvalid, Is.False);
        return context;
    }

    private static float TensorPrimitivesMax(ReadOnlySpan<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (float value in values)
        {
            max = Math.Max(max, value);
        }

        return max;
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static byte AlwaysAbort(nint data) => 1;
}
