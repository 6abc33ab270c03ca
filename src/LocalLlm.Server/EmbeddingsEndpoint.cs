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
        List<string> inputs = [.. TextOrTokens.Read(request, "input", model.Tokenizer, 2048).Select(i => i.Text)];
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
}
