namespace LocalLlm.ModelGenerator;

/// <summary>The random-weight models the generator can make; <see cref="ModelSpec.For"/> gives each one's dimensions.</summary>
public enum ModelShape
{
    /// <summary>A few-megabyte Llama 3 model for unit tests: 64 embedding, 2 layers, 4 heads (2 KV), FFN 128.</summary>
    Tiny,

    /// <summary>The SmolLM2-135M shape on the Llama 3 vocabulary: 576 embedding, 30 layers, 9 heads (3 KV), FFN 1536.</summary>
    Small,

    /// <summary>The Llama-3.2-1B shape: 2048 embedding, 16 layers, 32 heads (8 KV), FFN 8192 (about 2.5 GB in F16).</summary>
    OneB,

    /// <summary>A small BERT embedding model with the bge WordPiece vocabulary and mean pooling.</summary>
    Embedding,

    /// <summary>
    /// A cross-encoder reranker: the embedding shape with rank pooling and a classification head (<c>cls</c> and
    /// <c>cls.output</c>, one score per query-document pair), as BGE-reranker GGUFs carry.
    /// </summary>
    Reranker,
}
