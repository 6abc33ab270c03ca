using System.Text;
using LocalLlm.Gguf;

namespace LocalLlm;

/// <summary>
/// The host memory llama.cpp's tokenizer takes for a vocabulary, from the GGUF header: the tables in
/// <c>llama_vocab::impl</c> (<c>id_to_token</c>, <c>token_to_id</c>, <c>cache_token_to_piece</c>, <c>bpe_ranks</c>)
/// and the GGUF reader's copies of the token and merge strings, which live through the load. Sized from the layout of
/// libstdc++'s containers on a 64-bit glibc, as that is what the native libraries are built with; the tables sit outside
/// ggml's buffers, so no estimate made from buffers sees them (tens of MiB for a 128K-token vocabulary).
/// </summary>
internal static class TokenTableSize
{
    private const int StringObject = 32; // std::string, short strings (up to 15 bytes) held inline
    private const int TokenData = StringObject + 8; // llama_vocab::token_data: text, score, attributes
    private const int TokenToIdNode = 64; // unordered_map node: next, std::string key, id, cached hash; one malloc chunk
    private const int MergeNode = 96; // unordered_map node: next, pair of strings, rank, cached hash; one malloc chunk
    private const int Bucket = 8;

    public static long Estimate(GgufFile header)
    {
        long bytes = 0;
        if (header.TryGetValue("tokenizer.ggml.tokens", out GgufMetadataEntry? tokens) && tokens.Value is string[] texts)
        {
            foreach (string text in texts)
            {
                long heap = HeapString(Encoding.UTF8.GetByteCount(text));

                // id_to_token's entry and text, token_to_id's node, bucket and key, the piece cache's string (the piece
                // is at most the text's length), and the GGUF reader's copy of the text.
                bytes += TokenData + heap + TokenToIdNode + Bucket + heap + StringObject + heap + StringObject + heap;
            }
        }

        if (header.TryGetValue("tokenizer.ggml.merges", out GgufMetadataEntry? merges) && merges.Value is string[] pairs)
        {
            foreach (string pair in pairs)
            {
                int length = Encoding.UTF8.GetByteCount(pair);
                int space = pair.IndexOf(' ', 1);
                int left = space < 0 ? length : Encoding.UTF8.GetByteCount(pair.AsSpan(0, space));

                // bpe_ranks's node, bucket and the two halves, and the GGUF reader's copy of the merge.
                bytes += MergeNode + Bucket + HeapString(left) + HeapString(Math.Max(0, length - left - 1)) + StringObject + HeapString(length);
            }
        }

        return bytes;
    }

    // glibc's malloc chunk for a string's buffer (length plus terminator, an 8-byte header, 16-byte granules).
    private static long HeapString(int length) => length <= 15 ? 0 : Math.Max(32, (length + 1 + 8 + 15) & ~15);
}
