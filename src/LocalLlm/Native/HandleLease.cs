using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>A scoped <see cref="SafeHandle.DangerousAddRef"/>: the handle cannot be freed until the lease is disposed.</summary>
internal readonly ref struct HandleLease
{
    private readonly SafeHandle _handle;

    public HandleLease(SafeHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
    }

    public void Dispose() => _handle.DangerousRelease();
}
