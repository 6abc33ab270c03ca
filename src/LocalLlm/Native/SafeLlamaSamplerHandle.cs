using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>Owns a sampler, usually a chain (and through it every sampler added to it); frees it with <c>llama_sampler_free</c>.</summary>
internal sealed partial class SafeLlamaSamplerHandle : SafeHandle
{
    public SafeLlamaSamplerHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>Takes ownership of a sampler created outside llama.h (the chat shim's reasoning budget).</summary>
    internal void Attach(nint sampler) => SetHandle(sampler);

    /// <summary>Records <paramref name="token"/> in the sampler's state (a grammar's position, a budget's count).</summary>
    public void Accept(int token) => NativeMethods.llama_sampler_accept(this, token);

    /// <summary>Creates an empty chain; returns an invalid handle when llama.cpp refuses.</summary>
    public static SafeLlamaSamplerHandle CreateChain() =>
        NativeMethods.llama_sampler_chain_init(NativeMethods.llama_sampler_chain_default_params());

    /// <summary>
    /// Samples a token from the logits of a batch row of the context's last decode (-1 for the last row), and
    /// records it in the chain's history (penalties, grammar).
    /// </summary>
    public int Sample(SafeLlamaContextHandle context, int row) => NativeMethods.llama_sampler_sample(this, context, row);

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_sampler_free(handle);
        return true;
    }
}
