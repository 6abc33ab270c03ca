namespace LocalLlm.Native;

/// <summary>Filling a <see cref="llama_batch"/> allocated by <c>llama_batch_init</c>, one token at a time.</summary>
internal static class LlamaBatchExtensions
{
    /// <summary>Appends a token of one sequence; returns its row, the index its logits or embedding are read from.</summary>
    public static unsafe int Add(this ref llama_batch batch, int token, int position, int sequence, bool output)
    {
        int row = batch.n_tokens;
        batch.token[row] = token;
        batch.pos[row] = position;
        batch.n_seq_id[row] = 1;
        batch.seq_id[row][0] = sequence;
        batch.logits[row] = output ? (sbyte)1 : (sbyte)0;
        batch.n_tokens = row + 1;
        return row;
    }
}
