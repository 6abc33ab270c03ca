using System.Text;

namespace LocalLlm.Native;

/// <summary>Reads the strings llama.cpp writes into a caller's buffer (descriptions, metadata keys and values).</summary>
internal static class NativeText
{
    /// <summary>Writes at most <paramref name="size"/> bytes into <paramref name="buffer"/>; returns the full length, or a negative value when there is nothing to read.</summary>
    public unsafe delegate int Writer(byte* buffer, nuint size);

    // llama.cpp returns the full length even when the buffer was too small, so one retry always suffices.
    /// <summary>The string <paramref name="write"/> gives, or null when it reports nothing (a negative length).</summary>
    public static unsafe string? Read(Writer write)
    {
        Span<byte> small = stackalloc byte[256];
        int length;
        fixed (byte* buffer = small)
        {
            length = write(buffer, (nuint)small.Length);
            if (length < 0)
            {
                return null;
            }

            if (length < small.Length)
            {
                return Encoding.UTF8.GetString(small[..length]);
            }
        }

        byte[] large = new byte[length + 1];
        fixed (byte* buffer = large)
        {
            length = write(buffer, (nuint)large.Length);
        }

        return Encoding.UTF8.GetString(large, 0, Math.Max(0, Math.Min(length, large.Length - 1)));
    }
}
