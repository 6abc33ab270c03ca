using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// A persistent ggml CPU threadpool. Without one, llama.cpp creates and joins its worker threads on every decode; with
/// one, the workers live as long as the context and, at a polling level of 0, sleep between decodes instead of spinning.
/// </summary>
internal sealed unsafe class SafeGgmlThreadPoolHandle : SafeHandle
{
    private delegate* unmanaged[Cdecl]<nint, void> _free;

    public SafeGgmlThreadPoolHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>
    /// Creates a pool of <paramref name="threadCount"/> threads (the decoding thread counts as one) that spin for new
    /// work at <paramref name="polling"/> (0 = sleep at once, 100 = spin longest) before sleeping.
    /// </summary>
    /// <exception cref="LlamaException">The CPU backend is not loaded or does not offer threadpools, or llama.cpp could not create one.</exception>
    public static SafeGgmlThreadPoolHandle Create(int threadCount, int polling)
    {
        nint cpu = NativeMethods.ggml_backend_dev_by_type(ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_CPU);
        nint registry = cpu == nint.Zero ? nint.Zero : NativeMethods.ggml_backend_dev_backend_reg(cpu);

        // The CPU backend is loaded at run time (one build per instruction set), so its threadpool functions are looked up.
        var create = (delegate* unmanaged[Cdecl]<ggml_threadpool_params*, nint>)Lookup(registry, "ggml_threadpool_new");
        var free = (delegate* unmanaged[Cdecl]<nint, void>)Lookup(registry, "ggml_threadpool_free");
        ggml_threadpool_params parameters;
        NativeMethods.ggml_threadpool_params_init(&parameters, threadCount);
        parameters.poll = (uint)polling;
        var pool = new SafeGgmlThreadPoolHandle();
        pool.SetHandle(create(&parameters));
        if (pool.IsInvalid)
        {
            throw new LlamaException($"llama.cpp could not create a threadpool of {threadCount} threads.");
        }

        pool._free = free;
        return pool;
    }

    protected override bool ReleaseHandle()
    {
        _free(handle);
        return true;
    }

    private static nint Lookup(nint registry, string name)
    {
        nint function = registry == nint.Zero ? nint.Zero : NativeMethods.ggml_backend_reg_get_proc_address(registry, name);
        return function != nint.Zero
            ? function
            : throw new LlamaException($"The loaded llama.cpp CPU backend does not export {name}.");
    }
}
