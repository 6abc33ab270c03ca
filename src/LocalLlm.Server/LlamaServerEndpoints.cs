using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm.Server;

/// <summary>
/// The endpoints llama-server offers beside OpenAI's, under the same paths and shapes: <c>/health</c>,
/// <c>/v1/models</c>, <c>/tokenize</c>, <c>/detokenize</c>, <c>/apply-template</c> and <c>/props</c>.
/// </summary>
internal static class LlamaServerEndpoints
{
    /// <summary>200 once the model has loaded; 503 while it loads (load balancers wait); 500 with the reason if it failed.</summary>
    public static Task HealthAsync(HttpContext context, ServedModel served)
    {
        if (served.IsLoaded)
        {
            return WriteStringAsync(context, "status", "ok", context.RequestAborted);
        }

        return served.LoadFailure is { } failure
            ? OpenAiHttp.WriteErrorAsync(context.Response, new OpenAiRequestException(StatusCodes.Status500InternalServerError, $"The model failed to load: {failure.Message}", null, "server_error"))
            : OpenAiHttp.WriteErrorAsync(context.Response, new OpenAiRequestException(StatusCodes.Status503ServiceUnavailable, "Loading model", null, "unavailable_error"));
    }

    public static Task ModelsAsync(HttpContext context, ServedModel served) =>
        OpenAiHttp.WriteJsonAsync(context.Response, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            writer.WriteStartObject();
            writer.WriteString("id", served.Id);
            writer.WriteString("object", "model");
            writer.WriteNumber("created", served.Created.ToUnixTimeSeconds());
            writer.WriteString("owned_by", "localllm");
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }, context.RequestAborted);

    public static async Task TokenizeAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        using JsonDocument body = await OpenAiHttp.ReadJsonAsync(context.Request, cancellationToken).ConfigureAwait(false);
        var request = new RequestObject(body.RootElement, string.Empty);
        string content = request.String("content", required: true)!;
        bool addSpecial = request.Boolean("add_special") ?? false;
        bool parseSpecial = request.Boolean("parse_special") ?? true;
        bool withPieces = request.Boolean("with_pieces") ?? false;
        LlamaTokenizer tokenizer = (await served.GetModelAsync(cancellationToken).ConfigureAwait(false)).Tokenizer;
        int[] tokens = tokenizer.Tokenize(content, addSpecial, parseSpecial);
        await OpenAiHttp.WriteJsonAsync(context.Response, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("tokens");
            foreach (int token in tokens)
            {
                if (!withPieces)
                {
                    writer.WriteNumberValue(token);
                    continue;
                }

                // A piece that is not whole UTF-8 travels as its bytes, as llama-server sends it.
                byte[] bytes = tokenizer.GetTokenBytes(token, renderSpecial: true);
                writer.WriteStartObject();
                writer.WriteNumber("id", token);
                if (System.Text.Unicode.Utf8.IsValid(bytes))
                {
                    writer.WriteString("piece", Encoding.UTF8.GetString(bytes));
                }
                else
                {
                    writer.WriteStartArray("piece");
                    foreach (byte b in bytes)
                    {
                        writer.WriteNumberValue(b);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }, cancellationToken).ConfigureAwait(false);
    }

    public static async Task DetokenizeAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        using JsonDocument body = await OpenAiHttp.ReadJsonAsync(context.Request, cancellationToken).ConfigureAwait(false);
        var request = new RequestObject(body.RootElement, string.Empty);
        LlamaTokenizer tokenizer = (await served.GetModelAsync(cancellationToken).ConfigureAwait(false)).Tokenizer;
        request.Array("tokens", required: true);
        int[] tokens = TextOrTokens.TokenIds(body.RootElement.GetProperty("tokens"), tokenizer, "tokens");
        await WriteStringAsync(context, "content", tokenizer.Detokenize(tokens, renderSpecial: true), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The prompt the model's template makes of a conversation, without generating.</summary>
    public static async Task ApplyTemplateAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        using JsonDocument body = await OpenAiHttp.ReadJsonAsync(context.Request, cancellationToken).ConfigureAwait(false);
        var request = new RequestObject(body.RootElement, string.Empty);
        List<ChatMessage> messages = ChatCompletionRequestReader.ReadMessages(request, "messages");
        await served.GetModelAsync(cancellationToken).ConfigureAwait(false);
        await WriteStringAsync(context, "prompt", served.Chat.Template!.Apply(ChatMessageMapper.ToLlama(messages)), cancellationToken).ConfigureAwait(false);
    }

    public static async Task PropsAsync(HttpContext context, ServedModel served, CancellationToken cancellationToken)
    {
        LlamaModel model = await served.GetModelAsync(cancellationToken).ConfigureAwait(false);
        (int sequenceSize, int sequences) = served.Chat.ContextShape ?? (0, 0);
        LlamaChatTemplate? template = served.Chat.Template;
        await OpenAiHttp.WriteJsonAsync(context.Response, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("default_generation_settings");
            writer.WriteNumber("n_ctx", sequenceSize);
            writer.WriteEndObject();
            writer.WriteNumber("total_slots", sequences);
            writer.WriteString("model_path", model.Path);
            writer.WriteString("model_alias", served.Id);
            OpenAiHttp.WriteStringOrNull(writer, "chat_template", model.Metadata.ChatTemplate ?? template?.ToString());
            writer.WriteStartObject("modalities");
            writer.WriteBoolean("vision", false);
            writer.WriteBoolean("audio", false);
            writer.WriteEndObject();
            writer.WriteString("build_info", ServerInfo.Fingerprint);
            writer.WriteEndObject();
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Task WriteStringAsync(HttpContext context, string name, string value, CancellationToken cancellationToken) =>
        OpenAiHttp.WriteJsonAsync(context.Response, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString(name, value);
            writer.WriteEndObject();
        }, cancellationToken);
}
