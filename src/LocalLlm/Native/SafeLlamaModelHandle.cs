using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LocalLlm.Native;

/// <summary>Owns a <c>llama_model</c>; frees it with <c>llama_model_free</c>.</summary>
internal sealed partial class SafeLlamaModelHandle : SafeHandle
{
    public SafeLlamaModelHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>Gets the model's vocabulary, which lives as long as the model.</summary>
    public NativeVocabulary Vocabulary => new(NativeMethods.llama_model_get_vocab(this));

    /// <summary>
    /// Loads a GGUF file, calling <paramref name="progress"/> with the fraction loaded (it returns false to stop the
    /// load); returns an invalid handle when llama.cpp fails or the load was stopped.
    /// </summary>
    /// <param name="path">The GGUF file.</param>
    /// <param name="settings">The load settings.</param>
    /// <param name="progress">Called with the fraction loaded.</param>
    /// <param name="devices">The devices to offload to, in order (llama.cpp then uses no others), or null for llama.cpp's choice.</param>
    /// <param name="tensorSplit">Each device's share of the offloaded layers, or empty for llama.cpp's (by free memory).</param>
    public static unsafe SafeLlamaModelHandle Load(string path, in NativeModelSettings settings, Func<float, bool> progress, IReadOnlyList<nint>? devices = null, IReadOnlyList<float>? tensorSplit = null)
    {
        GCHandle progressHandle = GCHandle.Alloc(progress);
        try
        {
            llama_model_params parameters = settings.ToNative();
            parameters.progress_callback = &OnProgress;
            parameters.progress_callback_user_data = GCHandle.ToIntPtr(progressHandle);

            // llama.cpp reads a null-terminated device list and a split of llama_max_devices() entries, during the call only.
            nint[] deviceList = devices is null ? [] : [.. devices, nint.Zero];
            float[] split = new float[Math.Max((int)NativeMethods.llama_max_devices(), tensorSplit?.Count ?? 0)];
            tensorSplit?.ToArray().CopyTo(split, 0);
            fixed (nint* deviceArray = deviceList)
            fixed (float* splitArray = split)
            {
                if (devices is not null)
                {
                    parameters.devices = (nint)deviceArray;
                }

                if (tensorSplit is { Count: > 0 })
                {
                    parameters.tensor_split = splitArray;
                }

                return NativeMethods.llama_model_load_from_file(path, parameters);
            }
        }
        finally
        {
            progressHandle.Free();
        }
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.llama_model_free(handle);
        return true;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte OnProgress(float progress, nint userData)
    {
        try
        {
            return ((Func<float, bool>)GCHandle.FromIntPtr(userData).Target!)(progress) ? (byte)1 : (byte)0;
        }
        catch (Exception)
        {
            // A throwing progress handler must not unwind through llama.cpp; loading simply continues.
            return 1;
        }
    }
}
