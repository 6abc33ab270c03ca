using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// Owns a <c>llama_context</c>. Holds a reference on its model's handle, so the model is never freed
/// while a context that uses it is alive, whatever order the managed owners are disposed in.
/// </summary>
internal sealed partial class SafeLlamaContextHandle : SafeHandle
{
    private SafeLlamaModelHandle? _model;
    private AbortFlag? _abort;
    private SafeGgmlThreadPoolHandle? _threadPool;
    private SafeGgmlThreadPoolHandle? _batchThreadPool;

    public SafeLlamaContextHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>Gets the context window in tokens, all sequences together.</summary>
    public int ContextSize => (int)NativeMethods.llama_n_ctx(this);

    /// <summary>Makes these LoRA adapters, with their scales, the ones the context's next decodes apply (none: the base model).</summary>
    /// <exception cref="LlamaException">llama.cpp refused them.</exception>
    public unsafe void SetLoraAdapters(IReadOnlyList<SafeLoraAdapterHandle> adapters, float[] scales)
    {
        nint* pointers = stackalloc nint[Math.Max(1, adapters.Count)];
        for (int i = 0; i < adapters.Count; i++)
        {
            pointers[i] = adapters[i].DangerousGetHandle();
        }

        fixed (float* scaleArray = scales)
        {
            int status = NativeMethods.llama_set_adapters_lora(this, pointers, (nuint)adapters.Count, scaleArray);
            if (status != 0)
            {
                throw new LlamaException($"llama.cpp could not apply {adapters.Count} LoRA adapters to the context (status {status}).");
            }
        }
    }

    /// <summary>Gets the most tokens one micro-batch computes (an encoder's whole batch must fit one).</summary>
    public int MicroBatchSize => (int)NativeMethods.llama_n_ubatch(this);

    /// <summary>Gets the context window of one sequence.</summary>
    public int SequenceContextSize => (int)NativeMethods.llama_n_ctx_seq(this);

    /// <summary>Gets the most tokens one decode call takes.</summary>
    public int BatchSize => (int)NativeMethods.llama_n_batch(this);

    /// <summary>Gets how an embedding context pools each sequence's token vectors.</summary>
    public LlamaPooling Pooling => (LlamaPooling)Math.Max(0, (int)NativeMethods.llama_pooling_type(this));

    /// <summary>Gets how many prompt tokens llama.cpp's performance counters have seen evaluated.</summary>
    public int PromptTokensEvaluated => NativeMethods.llama_perf_context(this).n_p_eval;

    /// <summary>Creates a context over <paramref name="model"/>; returns an invalid handle when llama.cpp refuses.</summary>
    public static SafeLlamaContextHandle Create(SafeLlamaModelHandle model, in llama_context_params parameters)
    {
        var context = new SafeLlamaContextHandle();
        bool added = false;
        model.DangerousAddRef(ref added);
        try
        {
            nint native = NativeMethods.llama_init_from_model(model, parameters);
            if (native != nint.Zero)
            {
                context.SetHandle(native);
                context._model = model;
                added = false; // ownership of the reference moves to the context
            }
        }
        finally
        {
            if (added)
            {
                model.DangerousRelease();
            }
        }

        return context;
    }

    /// <summary>
    /// Creates a context over <paramref name="model"/> whose decodes stop when <paramref name="abort"/> is set, or frees
    /// <paramref name="abort"/> and throws naming <paramref name="description"/> (what and for which model) and
    /// llama.cpp's logged reason.
    /// </summary>
    public static unsafe SafeLlamaContextHandle Create(SafeLlamaModelHandle model, in NativeContextSettings settings, AbortFlag abort, string description)
    {
        llama_context_params parameters = settings.ToNative();
        parameters.abort_callback = AbortFlag.Callback;
        parameters.abort_callback_data = abort.CallbackData;
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        SafeLlamaContextHandle context = Create(model, parameters);
        context._abort = abort;
        if (context.IsInvalid)
        {
            abort.Dispose();
            string reason = errors.Lines.Count > 0 ? string.Join(" ", errors.Lines.TakeLast(3)) : "llama.cpp gave no reason";
            throw new LlamaException($"Could not create {description}: {reason}");
        }

        return context;
    }

    /// <summary>
    /// Runs every later decode on <paramref name="threadPool"/> (single-token decodes) and <paramref name="batchThreadPool"/>
    /// (the rest); the context holds a reference to each, so they stay alive until it is freed even when their owner
    /// disposes them.
    /// </summary>
    public void AttachThreadPools(SafeGgmlThreadPoolHandle threadPool, SafeGgmlThreadPoolHandle batchThreadPool)
    {
        bool added = false, batchAdded = false;
        try
        {
            threadPool.DangerousAddRef(ref added);
            batchThreadPool.DangerousAddRef(ref batchAdded);
            NativeMethods.llama_attach_threadpool(this, threadPool, batchThreadPool);
            _threadPool = threadPool;
            _batchThreadPool = batchThreadPool;
        }
        catch
        {
            if (added)
            {
                threadPool.DangerousRelease();
            }

            if (batchAdded)
            {
                batchThreadPool.DangerousRelease();
            }

            throw;
        }
    }

    /// <summary>Gets how many threads single-token decodes use now.</summary>
    public int ThreadCount => NativeMethods.llama_n_threads(this);

    /// <summary>Sets how many threads later decodes use (each at most its pool's size).</summary>
    public void SetThreadCounts(int threads, int batchThreads) => NativeMethods.llama_set_n_threads(this, threads, batchThreads);

    /// <summary>Decodes a batch; returns llama.cpp's status (0 on success, 1 when the KV cache has no room, 2 when aborted).</summary>
    public int Decode(NativeBatch batch)
    {
        using NativeLog.AbortScope scope = NativeLog.WhileDecoding(_abort);
        return NativeMethods.llama_decode(this, batch.Native);
    }

    /// <summary>Runs an encoder-only model over a batch; returns llama.cpp's status (0 on success).</summary>
    public int Encode(NativeBatch batch)
    {
        using NativeLog.AbortScope scope = NativeLog.WhileDecoding(_abort);
        return NativeMethods.llama_encode(this, batch.Native);
    }

    /// <summary>Gets the logits the last decode computed for a batch row (-1 for the last row).</summary>
    /// <remarks>The span points into the context's memory: valid until the next decode.</remarks>
    public unsafe ReadOnlySpan<float> GetLogits(int row, int vocabularySize)
    {
        float* logits = NativeMethods.llama_get_logits_ith(this, row);
        return logits is null
            ? throw new LlamaException($"llama.cpp has no logits for batch row {row} of the last decode.")
            : new ReadOnlySpan<float>(logits, vocabularySize);
    }

    /// <summary>Copies the embedding the last decode computed for a batch row, or returns null when there is none.</summary>
    public unsafe float[]? CopyTokenEmbedding(int row, int dimensions) =>
        Copy(NativeMethods.llama_get_embeddings_ith(this, row), dimensions);

    /// <summary>Copies the pooled embedding the last decode computed for a sequence, or returns null when there is none.</summary>
    public unsafe float[]? CopySequenceEmbedding(int sequence, int dimensions) =>
        Copy(NativeMethods.llama_get_embeddings_seq(this, sequence), dimensions);

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_free(handle);
        _model?.DangerousRelease();
        _model = null;

        // Only after the context is gone: its decodes ran on these pools.
        _threadPool?.DangerousRelease();
        _batchThreadPool?.DangerousRelease();
        _threadPool = _batchThreadPool = null;
        return true;
    }

    private static unsafe float[]? Copy(float* vector, int length) =>
        vector is null ? null : new ReadOnlySpan<float>(vector, length).ToArray();
}
