namespace LocalLlm.Native;

/// <summary>
/// A batch of tokens for <see cref="SafeLlamaContextHandle.Decode(NativeBatch)"/>, each of one sequence, allocated once
/// and refilled for every decode.
/// </summary>
internal sealed unsafe class NativeBatch : IDisposable
{
    private llama_batch _batch;

    /// <summary>Allocates room for <paramref name="capacity"/> tokens.</summary>
    public NativeBatch(int capacity)
    {
        _batch = NativeMethods.llama_batch_init(capacity, 0, 1);
        Capacity = capacity;
    }

    /// <summary>Gets how many tokens the batch has room for.</summary>
    public int Capacity { get; }

    /// <summary>Gets how many tokens the batch holds.</summary>
    public int Count => _batch.n_tokens;

    internal llama_batch Native => _batch;

    /// <summary>Empties the batch, keeping its memory for the next fill.</summary>
    public void Clear() => _batch.n_tokens = 0;

    /// <summary>Appends a token of one sequence; returns its row, the index its logits or embedding are read from.</summary>
    public int Add(int token, int position, int sequence, bool output)
    {
        int row = _batch.n_tokens;
        _batch.token[row] = token;
        _batch.pos[row] = position;
        _batch.n_seq_id[row] = 1;
        _batch.seq_id[row][0] = sequence;
        _batch.logits[row] = output ? (sbyte)1 : (sbyte)0;
        _batch.n_tokens = row + 1;
        return row;
    }

    public void Dispose()
    {
        NativeMethods.llama_batch_free(_batch);
        _batch = default; // llama_batch_free skips null arrays, so a second Dispose frees nothing
    }
}
