namespace LocalLlm;

/// <summary>One document's place in a <see cref="LlamaReranker.RerankAsync"/> answer.</summary>
/// <param name="Index">The document's index in the list given.</param>
/// <param name="Score">Its relevance to the query: the model's raw score (higher is more relevant; a BGE reranker's logit, a Qwen3 reranker's probability).</param>
/// <param name="TokenCount">The tokens the query-document pair took.</param>
public sealed record LlamaRerankResult(int Index, float Score, int TokenCount);
