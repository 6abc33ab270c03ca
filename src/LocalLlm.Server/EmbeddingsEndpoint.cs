using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm.Server;

/// <summary><c>POST /v1/embeddings</c>: one embedding per input, as floats or as base64 of little-endian floats.</summary>
internal static class EmbeddingsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        using JsonDocument body = await OpenAiHttp.ReadJsonAsync(context.Request, cancellationToken).ConfigureAwait(false);
        var request = new RequestObject(body.RootElement, string.Empty);
        ChatCompletionRequestReader.CheckModel(request, served.Id);
        string format = request.String("encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
        {
            throw OpenAiRequestException.BadRequest("encoding_format", $"'encoding_format' must be float or base64, but was '{format}'.");
        }

        LlamaModel model = await served.GetModelAsync(cancellationToken).ConfigureAwait(false);
        List<string> inputs = ReadInputs(request, model.Tokenizer);
        if (request.Integer("dimensions", 1, int.MaxValue) is { } dimensions && dimensions != model.Metadata.EmbeddingSize)
        {
            throw OpenAiRequestException.BadRequest("dimensions", $"'dimensions' must be this model's embedding size, {model.Metadata.EmbeddingSize}, or absent, but was {dimensions}.");
        }

        GeneratedEmbeddings<Embedding<float>> embeddings = await served.Embeddings.GenerateAsync(inputs, cancellationToken: cancellationToken).ConfigureAwait(false);
        long promptTokens = embeddings.Usage?.InputTokenCount ?? inputs.Sum(i => model.Tokenizer.Tokenize(i).Length);
        await OpenAiHttp.WriteJsonAsync(context.Response, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (int i = 0; i < embeddings.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                ReadOnlySpan<float> vector = embeddings[i].Vector.Span;
                if (format == "base64")
                {
                    writer.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector)); // little-endian on every platform .NET runs LocalLlm on
                }
                else
                {
                    writer.WriteStartArray("embedding");
                    foreach (float value in vector)
                    {
                        writer.WriteNumberValue(value);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("model", served.Id);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", promptTokens);
            writer.WriteNumber("total_tokens", promptTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A string, an array of strings, an array of token ids or an array of those; token ids are read back as text.</summary>
    private static List<string> ReadInputs(RequestObject request, LlamaTokenizer tokenizer)
    {
        if (!request.TryGet("input", out JsonElement input))
        {
            throw OpenAiRequestException.BadRequest("input", "'input' is required.");
        }

        var inputs = new List<string>();
        if (input.ValueKind == JsonValueKind.String)
        {
            inputs.Add(input.GetString()!);
        }
        else if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0 && input.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
        {
            inputs.Add(FromTokens(input, tokenizer, "input"));
        }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement item in input.EnumerateArray())
            {
                string path = $"input[{index++}]";
                inputs.Add(item.ValueKind switch
                {
                    JsonValueKind.String => item.GetString()!,
                    JsonValueKind.Array => FromTokens(item, tokenizer, path),
                    _ => throw OpenAiRequestException.BadRequest(path, $"'{path}' must be a string or an array of token ids, but was {RequestObject.Describe(item)}."),
                });
            }
        }
        else
        {
            throw OpenAiRequestException.BadRequest("input", $"'input' must be a string, an array of strings or an array of token ids, but was {RequestObject.Describe(input)}.");
        }

        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length == 0)
            {
                throw OpenAiRequestException.BadRequest(input.ValueKind == JsonValueKind.String ? "input" : $"input[{i}]", "An input is empty; each input needs at least one character.");
            }
        }

        return inputs.Count is > 0 and <= 2048
            ? inputs
            : throw OpenAiRequestException.BadRequest("input", $"'input' must hold between 1 and 2048 inputs, but held {inputs.Count}.");
    }

    private static string FromTokens(JsonElement array, LlamaTokenizer tokenizer, string path)
    {
        var tokens = new List<int>();
        foreach (JsonElement token in array.EnumerateArray())
        {
            tokens.Add(token.ValueKind == JsonValueKind.Number && token.TryGetInt32(out int id) && id >= 0 && id < tokenizer.VocabularySize
                ? id
                : throw OpenAiRequestException.BadRequest(path, $"'{path}' holds {token.GetRawText()}, which is not a token id of this model (0 to {tokenizer.VocabularySize - 1})."));
        }

        return tokenizer.Detokenize(tokens.ToArray());
    }
}
