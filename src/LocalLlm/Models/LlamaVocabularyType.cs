namespace LocalLlm;

/// <summary>The tokenizer algorithm a model uses.</summary>
public enum LlamaVocabularyType
{
    /// <summary>The model has no vocabulary.</summary>
    None = 0,

    /// <summary>SentencePiece-style BPE with byte fallback (Llama 1/2, Mistral).</summary>
    SentencePiece = 1,

    /// <summary>GPT-2 style byte-level BPE (Llama 3, Qwen, …).</summary>
    BytePairEncoding = 2,

    /// <summary>BERT WordPiece.</summary>
    WordPiece = 3,

    /// <summary>T5 Unigram.</summary>
    Unigram = 4,

    /// <summary>RWKV greedy tokenizer.</summary>
    Rwkv = 5,

    /// <summary>PLaMo-2 tokenizer.</summary>
    Plamo2 = 6,
}
