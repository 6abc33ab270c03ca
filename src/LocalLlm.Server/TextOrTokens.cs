using System.Text.Json;

namespace LocalLlm.Server;

/// <summary>
/// Reads what OpenAI's <c>prompt</c> and <c>input</c> fields may hold: a string, an array of token ids, or an array of
/// either; and token-id arrays on their own (llama-server's <c>tokens</c>). Every id is checked against the vocabulary.
/// </summary>
internal static class TextOrTokens
{
    /// <summary>One prompt or input: text, or token ids (then <see cref="Text"/> is their detokenized text).</summary>
    public sealed record Item(string Text, int[]? Tokens, string Path);

    public static List<Item> Read(RequestObject request, string name, LlamaTokenizer tokenizer, int maximumCount)
    {
        if (!request.TryGet(name, out JsonElement value))
        {
            throw OpenAiRequestException.BadRequest(name, $"'{name}' is required.");
        }

        var items = new List<Item>();
        if (value.ValueKind == JsonValueKind.String)
        {
            items.Add(new Item(value.GetString()!, null, name));
        }
        else if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
        {
            items.Add(FromTokens(value, tokenizer, name));
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement item in value.EnumerateArray())
            {
                string path = $"{name}[{index++}]";
                items.Add(item.ValueKind switch
                {
                    JsonValueKind.String => new Item(item.GetString()!, null, path),
                    JsonValueKind.Array => FromTokens(item, tokenizer, path),
                    _ => throw OpenAiRequestException.BadRequest(path, $"'{path}' must be a string or an array of token ids, but was {RequestObject.Describe(item)}."),
                });
            }
        }
        else
        {
            throw OpenAiRequestException.BadRequest(name, $"'{name}' must be a string, an array of strings or an array of token ids, but was {RequestObject.Describe(value)}.");
        }

        if (items.FirstOrDefault(i => i.Text.Length == 0 && i.Tokens is not { Length: > 0 }) is { } empty)
        {
            throw OpenAiRequestException.BadRequest(empty.Path, $"'{empty.Path}' is empty.");
        }

        return items.Count is > 0 && items.Count <= maximumCount
            ? items
            : throw OpenAiRequestException.BadRequest(name, $"'{name}' must hold between 1 and {maximumCount} items, but held {items.Count}.");
    }

    public static int[] TokenIds(JsonElement array, LlamaTokenizer tokenizer, string path)
    {
        var tokens = new List<int>();
        int index = 0;
        foreach (JsonElement token in array.EnumerateArray())
        {
            tokens.Add(token.ValueKind == JsonValueKind.Number && token.TryGetInt32(out int id) && id >= 0 && id < tokenizer.VocabularySize
                ? id
                : throw OpenAiRequestException.BadRequest($"{path}[{index}]", $"'{path}[{index}]' is {token.GetRawText()}, which is not a token id of this model (0 to {tokenizer.VocabularySize - 1})."));
            index++;
        }

        return [.. tokens];
    }

    private static Item FromTokens(JsonElement array, LlamaTokenizer tokenizer, string path)
    {
        int[] tokens = TokenIds(array, tokenizer, path);
        return new Item(tokenizer.Detokenize(tokens), tokens, path);
    }
}
