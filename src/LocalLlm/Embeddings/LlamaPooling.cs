namespace LocalLlm;

/// <summary>How the per-token outputs of a model become one embedding per input.</summary>
public enum LlamaPooling
{
    /// <summary>No pooling: the embedding of the input's last token.</summary>
    None = 0,

    /// <summary>The mean of every token's embedding (most sentence-embedding models).</summary>
    Mean = 1,

    /// <summary>The embedding of the first (CLS) token (BERT-style classifiers).</summary>
    Cls = 2,

    /// <summary>The embedding of the last token (decoder-based embedding models).</summary>
    Last = 3,

    /// <summary>
    /// A reranker's classification head over the first (or, for Qwen3 rerankers, the last) token: one relevance score
    /// per query-document pair. Models made for it set it in their metadata; <see cref="LlamaReranker"/> uses it.
    /// </summary>
    Rank = 4,
}
