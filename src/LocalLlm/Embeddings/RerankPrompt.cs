namespace LocalLlm;

/// <summary>
/// A query-document pair as llama-server's <c>format_prompt_rerank</c> lays it out: the model's rerank template with
/// <c>{query}</c> and <c>{document}</c> filled in when it has one (Qwen3 rerankers), else
/// <c>[BOS] query [EOS] [SEP] document [EOS]</c> with each special token only where the vocabulary adds it.
/// </summary>
internal static class RerankPrompt
{
    public static int[] Tokenize(LlamaModel model, string query, string document)
    {
        LlamaTokenizer tokenizer = model.Tokenizer;
        if (model.Handle.RerankTemplate is { } template)
        {
            return tokenizer.Tokenize(template.Replace("{query}", query, StringComparison.Ordinal).Replace("{document}", document, StringComparison.Ordinal), addSpecial: false, parseSpecial: true);
        }

        int[] queryTokens = tokenizer.Tokenize(query, addSpecial: false, parseSpecial: false);
        int[] documentTokens = tokenizer.Tokenize(document, addSpecial: false, parseSpecial: false);
        int? end = tokenizer.EndOfSequenceToken ?? tokenizer.SeparatorToken;
        var pair = new List<int>(queryTokens.Length + documentTokens.Length + 4);
        if (tokenizer.AddsBeginningOfSequence && tokenizer.BeginningOfSequenceToken is { } bos)
        {
            pair.Add(bos);
        }

        pair.AddRange(queryTokens);
        if (tokenizer.AddsEndOfSequence && end is { } eos)
        {
            pair.Add(eos);
        }

        if (tokenizer.AddsSeparator && tokenizer.SeparatorToken is { } sep)
        {
            pair.Add(sep);
        }

        pair.AddRange(documentTokens);
        if (tokenizer.AddsEndOfSequence && end is { } closing)
        {
            pair.Add(closing);
        }

        return [.. pair];
    }
}
