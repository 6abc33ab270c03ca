namespace LocalLlm;

/// <summary>Why a model file could not be loaded.</summary>
public enum LlamaModelLoadFailure
{
    /// <summary>The path names a directory, not a file.</summary>
    PathIsDirectory,

    /// <summary>The file is a valid GGUF, but its architecture is not supported by the bundled llama.cpp.</summary>
    UnsupportedArchitecture,

    /// <summary>llama.cpp rejected the file for another reason, given in the message.</summary>
    NativeLoadFailed,

    /// <summary>
    /// <c>general.alignment</c> is not a multiple of 32: llama.cpp maps tensors straight from the file, and its CPU
    /// backend needs their data aligned to 32 bytes.
    /// </summary>
    UnsupportedAlignment,

    /// <summary><c>{arch}.block_count</c> is 0 or above llama.cpp's 512 layers (or its next-token-prediction layers outnumber the layers).</summary>
    InvalidLayerCount,

    /// <summary>A normalization epsilon (<c>{arch}.attention.layer_norm_rms_epsilon</c> or <c>layer_norm_epsilon</c>) is negative, infinite or NaN.</summary>
    InvalidNormEpsilon,

    /// <summary>A normalization weight (<c>*norm.weight</c>) is stored in another type than F32, which llama.cpp cannot apply.</summary>
    UnsupportedNormType,

    /// <summary>Two entries of <c>tokenizer.ggml.tokens</c> are the same string.</summary>
    DuplicateToken,

    /// <summary>
    /// A SentencePiece vocabulary (<c>tokenizer.ggml.model</c> = <c>llama</c>) lacks one of the 256 byte tokens
    /// <c>&lt;0x00&gt;</c>..<c>&lt;0xFF&gt;</c> that its byte fallback needs (or the vocabulary is not SentencePiece at all).
    /// </summary>
    MissingByteTokens,

    /// <summary>A WordPiece vocabulary (<c>tokenizer.ggml.model</c> = <c>bert</c>) holds byte tokens, which WordPiece cannot decode.</summary>
    TokenizerMismatch,

    /// <summary>The model and its context would not fit the free memory (a fit was asked for); the message gives the need and what is free.</summary>
    InsufficientMemory,

    /// <summary>
    /// An RPC worker in <see cref="LlamaModelOptions.RpcServers"/> could not be used (unreachable, refusing, busy, or from
    /// another llama.cpp build), or the RPC backend is missing; the inner <see cref="LlamaRpcWorkerException"/> names the
    /// endpoint and the reason.
    /// </summary>
    RpcWorkerUnavailable,

    /// <summary>The devices named for the model do not match its settings (a <see cref="LlamaModelOptions.TensorSplit"/> of another length than the devices).</summary>
    InvalidDeviceSplit,
}
