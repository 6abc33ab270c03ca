namespace LocalLlm.Native;

// The context's memory (KV cache) by sequence, and its state as bytes or a file. Positions follow llama.cpp:
// a range is [from, to), and a negative bound leaves that end open.
internal sealed partial class SafeLlamaContextHandle
{
    /// <summary>Gets a value indicating whether the memory can move a sequence's positions (context shifting).</summary>
    public bool CanShift => NativeMethods.llama_memory_can_shift(NativeMethods.llama_get_memory(this));

    /// <summary>Empties the memory of every sequence.</summary>
    public void ClearMemory() => NativeMethods.llama_memory_clear(NativeMethods.llama_get_memory(this), true);

    /// <summary>
    /// Removes a sequence's tokens at positions [<paramref name="from"/>, <paramref name="to"/>); returns false when the
    /// memory cannot remove part of a sequence (recurrent models).
    /// </summary>
    public bool RemoveTokens(int sequence, int from, int to) =>
        NativeMethods.llama_memory_seq_rm(NativeMethods.llama_get_memory(this), sequence, from, to);

    /// <summary>Removes every token of a sequence, freeing its cells.</summary>
    public void RemoveSequence(int sequence) => RemoveTokens(sequence, -1, -1);

    /// <summary>Adds <paramref name="delta"/> to the positions of a sequence's tokens in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public void ShiftPositions(int sequence, int from, int to, int delta) =>
        NativeMethods.llama_memory_seq_add(NativeMethods.llama_get_memory(this), sequence, from, to, delta);

    /// <summary>Gets the highest position a sequence holds, or -1 when it holds none.</summary>
    public int HighestPosition(int sequence) =>
        NativeMethods.llama_memory_seq_pos_max(NativeMethods.llama_get_memory(this), sequence);

    /// <summary>Gets the size in bytes of the context's state (KV cache, logits) as <see cref="CopyState"/> writes it.</summary>
    public long StateSize => (long)NativeMethods.llama_state_get_size(this);

    /// <summary>Writes the context's state into <paramref name="destination"/>; returns the bytes written.</summary>
    public unsafe int CopyState(Span<byte> destination)
    {
        fixed (byte* pointer = destination)
        {
            return (int)NativeMethods.llama_state_get_data(this, pointer, (nuint)destination.Length);
        }
    }

    /// <summary>Replaces the context's state with one written by <see cref="CopyState"/>; returns false when llama.cpp rejects it.</summary>
    public unsafe bool RestoreState(ReadOnlySpan<byte> source)
    {
        fixed (byte* pointer = source)
        {
            return NativeMethods.llama_state_set_data(this, pointer, (nuint)source.Length) != 0;
        }
    }

    /// <summary>Writes the context's state and <paramref name="tokens"/> to a llama.cpp session file; returns false when it cannot.</summary>
    public unsafe bool SaveStateFile(string path, ReadOnlySpan<int> tokens)
    {
        fixed (int* pointer = tokens)
        {
            return NativeMethods.llama_state_save_file(this, path, pointer, (nuint)tokens.Length);
        }
    }

    /// <summary>
    /// Replaces the context's state with a llama.cpp session file, reading its tokens into <paramref name="tokens"/>;
    /// returns false when llama.cpp rejects the file.
    /// </summary>
    public unsafe bool LoadStateFile(string path, Span<int> tokens, out int count)
    {
        fixed (int* pointer = tokens)
        {
            bool loaded = NativeMethods.llama_state_load_file(this, path, pointer, (nuint)tokens.Length, out nuint read);
            count = (int)read;
            return loaded;
        }
    }
}
