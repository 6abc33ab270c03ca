using System.Runtime.InteropServices;

namespace LocalLlm.Native;

// Field-by-field mirrors of llama.h v0.5.0 structs. Field names are llama.h's own so that the ABI test
// (tests/LocalLlm.Tests/Native/AbiTests.cs) can compare every offset by name. C bool is one byte.

[StructLayout(LayoutKind.Sequential)]
internal struct llama_token_data
{
    public int id;
    public float logit;
    public float p;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct llama_token_data_array
{
    public llama_token_data* data;
    public nuint size;
    public long selected;
    public byte sorted;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct llama_batch
{
    public int n_tokens;
    public int* token;
    public float* embd;
    public int* pos;
    public int* n_seq_id;
    public int** seq_id;
    public sbyte* logits;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct llama_model_params
{
    public nint devices;
    public nint tensor_buft_overrides;
    public int n_gpu_layers;
    public llama_split_mode split_mode;
    public llama_load_mode load_mode;
    public llama_lazy_mode lazy_mode;
    public int main_gpu;
    public float* tensor_split;
    public delegate* unmanaged[Cdecl]<float, nint, byte> progress_callback;
    public nint progress_callback_user_data;
    public nint kv_overrides;
    public byte vocab_only;
    public byte check_tensors;
    public byte use_extra_bufts;
    public byte no_host;
    public byte no_alloc;
    public byte load_mtp;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct llama_context_params
{
    public uint n_ctx;
    public uint n_batch;
    public uint n_ubatch;
    public uint n_seq_max;
    public uint n_rs_seq;
    public uint n_outputs_max;
    public uint n_outputs_max_per_seq;
    public int n_threads;
    public int n_threads_batch;
    public llama_context_type ctx_type;
    public llama_rope_scaling_type rope_scaling_type;
    public llama_pooling_type pooling_type;
    public llama_attention_type attention_type;
    public llama_flash_attn_type flash_attn_type;
    public float rope_freq_base;
    public float rope_freq_scale;
    public float yarn_ext_factor;
    public float yarn_attn_factor;
    public float yarn_beta_fast;
    public float yarn_beta_slow;
    public uint yarn_orig_ctx;
    public float defrag_thold;
    public nint cb_eval;
    public nint cb_eval_user_data;
    public ggml_type type_k;
    public ggml_type type_v;
    public delegate* unmanaged[Cdecl]<nint, byte> abort_callback;
    public nint abort_callback_data;
    public byte embeddings;
    public byte offload_kqv;
    public byte no_perf;
    public byte op_offload;
    public byte swa_full;
    public byte kv_unified;
    public nint samplers;
    public nuint n_samplers;
    public nint ctx_other;
}

[StructLayout(LayoutKind.Sequential)]
internal struct llama_model_quantize_params
{
    public int nthread;
    public llama_ftype ftype;
    public ggml_type output_tensor_type;
    public ggml_type token_embedding_type;
    public byte allow_requantize;
    public byte quantize_output_tensor;
    public byte only_copy;
    public byte pure;
    public byte keep_split;
    public byte dry_run;
    public nint imatrix;
    public nint kv_overrides;
    public nint tt_overrides;
    public nint prune_layers;
    public nuint max_buf_size;
}

[StructLayout(LayoutKind.Sequential)]
internal struct llama_logit_bias
{
    public int token;
    public float bias;
}

[StructLayout(LayoutKind.Sequential)]
internal struct llama_sampler_chain_params
{
    public byte no_perf;
}

[StructLayout(LayoutKind.Sequential)]
internal struct llama_perf_context_data
{
    public double t_start_ms;
    public double t_load_ms;
    public double t_p_eval_ms;
    public double t_eval_ms;
    public int n_p_eval;
    public int n_eval;
    public int n_reused;
}

[StructLayout(LayoutKind.Sequential)]
internal struct llama_perf_sampler_data
{
    public double t_sample_ms;
    public int n_sample;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ggml_threadpool_params
{
    public fixed byte cpumask[512]; // GGML_MAX_N_THREADS bools; all zero keeps the default affinity
    public int n_threads;
    public ggml_sched_priority prio;
    public uint poll;
    public byte strict_cpu;
    public byte paused;
}
