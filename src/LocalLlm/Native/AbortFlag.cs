using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>
/// A flag llama.cpp's abort callback reads between graph nodes while it decodes, so cancellation stops native work
/// in progress. <see cref="SafeLlamaContextHandle.Create(SafeLlamaModelHandle, in NativeContextSettings, AbortFlag, string)"/> wires it
/// into the context; free it with the context.
/// </summary>
internal sealed class AbortFlag : IDisposable
{
    private GCHandle _handle;
    private volatile bool _abort;

    public AbortFlag()
    {
        _handle = GCHandle.Alloc(this);
    }

    public static unsafe delegate* unmanaged[Cdecl]<nint, byte> Callback => &ShouldAbort;

    public nint CallbackData => GCHandle.ToIntPtr(_handle);

    public bool Abort
    {
        get => _abort;
        set => _abort = value;
    }

    public void Dispose()
    {
        if (_handle.IsAllocated)
        {
            _handle.Free();
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte ShouldAbort(nint data) => ((AbortFlag)GCHandle.FromIntPtr(data).Target!)._abort ? (byte)1 : (byte)0;
}
