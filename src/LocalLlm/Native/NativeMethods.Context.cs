using System.Runtime.InteropServices;

namespace LocalLlm.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(LlamaLibrary)]
    internal static partial llama_context_params llama_context_default_params();

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_init_from_model(SafeLlamaModelHandle model, llama_context_params @params);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_free(nint ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_n_ctx(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_n_ctx_seq(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_n_batch(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_n_ubatch(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial uint llama_n_seq_max(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_pooling_type llama_pooling_type(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_set_n_threads(SafeLlamaContextHandle ctx, int n_threads, int n_threads_batch);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_n_threads(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_n_threads_batch(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_set_embeddings(SafeLlamaContextHandle ctx, [MarshalAs(UnmanagedType.U1)] bool embeddings);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_set_causal_attn(SafeLlamaContextHandle ctx, [MarshalAs(UnmanagedType.U1)] bool causal_attn);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_set_abort_callback(SafeLlamaContextHandle ctx, delegate* unmanaged[Cdecl]<nint, byte> abort_callback, nint abort_callback_data);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_synchronize(SafeLlamaContextHandle ctx);

    // Batches

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_batch llama_batch_init(int n_tokens, int embd, int n_seq_max);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_batch_free(llama_batch batch);

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_batch llama_batch_get_one(int* tokens, int n_tokens);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_decode(SafeLlamaContextHandle ctx, llama_batch batch);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_encode(SafeLlamaContextHandle ctx, llama_batch batch);

    // Outputs

    [LibraryImport(LlamaLibrary)]
    internal static partial float* llama_get_logits(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial float* llama_get_logits_ith(SafeLlamaContextHandle ctx, int i);

    [LibraryImport(LlamaLibrary)]
    internal static partial float* llama_get_embeddings(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial float* llama_get_embeddings_ith(SafeLlamaContextHandle ctx, int i);

    [LibraryImport(LlamaLibrary)]
    internal static partial float* llama_get_embeddings_seq(SafeLlamaContextHandle ctx, int seq_id);

    // Memory (KV cache)

    [LibraryImport(LlamaLibrary)]
    internal static partial nint llama_get_memory(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_memory_clear(nint mem, [MarshalAs(UnmanagedType.U1)] bool data);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_memory_seq_rm(nint mem, int seq_id, int p0, int p1);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_memory_seq_cp(nint mem, int seq_id_src, int seq_id_dst, int p0, int p1);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_memory_seq_keep(nint mem, int seq_id);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_memory_seq_add(nint mem, int seq_id, int p0, int p1, int delta);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_memory_seq_div(nint mem, int seq_id, int p0, int p1, int d);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_memory_seq_pos_min(nint mem, int seq_id);

    [LibraryImport(LlamaLibrary)]
    internal static partial int llama_memory_seq_pos_max(nint mem, int seq_id);

    [LibraryImport(LlamaLibrary)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_memory_can_shift(nint mem);

    // State

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_state_get_size(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_state_get_data(SafeLlamaContextHandle ctx, byte* dst, nuint size);

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_state_set_data(SafeLlamaContextHandle ctx, byte* src, nuint size);

    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_state_load_file(SafeLlamaContextHandle ctx, string path_session, int* tokens_out, nuint n_token_capacity, out nuint n_token_count_out);

    [LibraryImport(LlamaLibrary, StringMarshalling = StringMarshalling.Utf8)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_state_save_file(SafeLlamaContextHandle ctx, string path_session, int* tokens, nuint n_token_count);

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_state_seq_get_size(SafeLlamaContextHandle ctx, int seq_id);

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_state_seq_get_data(SafeLlamaContextHandle ctx, byte* dst, nuint size, int seq_id);

    [LibraryImport(LlamaLibrary)]
    internal static partial nuint llama_state_seq_set_data(SafeLlamaContextHandle ctx, byte* src, nuint size, int dest_seq_id);

    // Performance counters

    [LibraryImport(LlamaLibrary)]
    internal static partial llama_perf_context_data llama_perf_context(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_perf_context_reset(SafeLlamaContextHandle ctx);

    [LibraryImport(LlamaLibrary)]
    internal static partial void llama_attach_threadpool(SafeLlamaContextHandle ctx, SafeGgmlThreadPoolHandle threadpool, SafeGgmlThreadPoolHandle threadpool_batch);
}
