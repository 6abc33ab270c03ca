using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Server;

/// <summary>
/// What every endpoint shares: reading a JSON body, answering a failure with OpenAI's error envelope (400 naming the
/// field, 429 with <c>Retry-After</c>, 500 otherwise), and writing server-sent events.
/// </summary>
internal static partial class OpenAiHttp
{
    private static readonly byte[] EventStart = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    // JSON for API clients, never embedded in HTML: quotes and non-ASCII text travel as themselves, not as \u escapes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs an endpoint, turning its failures into the status and envelope a client can act on.</summary>
    public static async Task RunAsync(HttpContext context, ILogger logger, int retryAfterSeconds, Func<CancellationToken, Task> endpoint, CancellationToken stopping)
    {
        CancellationToken aborted = context.RequestAborted;

        // A client that leaves stops its generation at once; so does the host shutting down, which tells the client.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        try
        {
            await endpoint(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; its generation has stopped and there is no one to answer.
        }
        catch (Exception ex)
        {
            OpenAiRequestException error = ToRequestError(ex, stopping.IsCancellationRequested);
            if (error.StatusCode >= 500)
            {
                LogFailed(logger, ex, context.Request.Path);
            }

            if (context.Response.HasStarted)
            {
                // Mid-stream: the status is sent, so the error travels as the last event, as llama-server does it.
                await WriteEventAsync(context.Response, writer => WriteErrorObject(writer, error), CancellationToken.None).ConfigureAwait(false);
                return;
            }

            if (error.StatusCode == StatusCodes.Status429TooManyRequests)
            {
                context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            await WriteErrorAsync(context.Response, error).ConfigureAwait(false);
        }
    }

    public static OpenAiRequestException ToRequestError(Exception ex, bool stopping)
    {
        switch (ex)
        {
            case OpenAiRequestException request:
                return request;
            case LlamaQueueFullException:
                return new OpenAiRequestException(StatusCodes.Status429TooManyRequests, $"The server is busy: {ex.Message}", null, "rate_limit_error", "queue_full");
            case LlamaContextOverflowException:
                return OpenAiRequestException.BadRequest("messages", ex.Message, "context_length_exceeded");
            case BadHttpRequestException badRequest:
                return new OpenAiRequestException(badRequest.StatusCode, badRequest.Message, null);
            case ArgumentException argument:
                // The chat layer's mapping names the request setting it refused (min_p, response_format, ...).
                return OpenAiRequestException.BadRequest(argument.ParamName, argument.Message);
            case LlamaChatTemplateException:
                return OpenAiRequestException.BadRequest(null, ex.Message);
            case OperationCanceledException when stopping:
                return new OpenAiRequestException(StatusCodes.Status503ServiceUnavailable, "The server is shutting down; the request was stopped.", null, "unavailable_error");
            default:
                return new OpenAiRequestException(StatusCodes.Status500InternalServerError, $"The server failed: {ex.Message}", null, "server_error");
        }
    }

    /// <summary>The 401 every guarded endpoint answers a request without a listed key.</summary>
    public static Task WriteUnauthorizedAsync(HttpResponse response) =>
        WriteErrorAsync(response, new OpenAiRequestException(StatusCodes.Status401Unauthorized, "Invalid or missing API key: send 'Authorization: Bearer <key>'.", null, "authentication_error", "invalid_api_key"));

    /// <summary>Reads the body as JSON; malformed JSON or the wrong media type is a 400 that says so.</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw OpenAiRequestException.BadRequest(null, $"The request body is not valid JSON: {ex.Message}");
        }
    }

    public static Task WriteErrorAsync(HttpResponse response, OpenAiRequestException error)
    {
        response.StatusCode = error.StatusCode;
        return WriteJsonAsync(response, writer => WriteErrorObject(writer, error), CancellationToken.None);
    }

    public static void WriteErrorObject(Utf8JsonWriter writer, OpenAiRequestException error)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", error.Message);
        writer.WriteString("type", error.Type);
        WriteStringOrNull(writer, "param", error.Parameter);
        WriteStringOrNull(writer, "code", error.Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    public static async Task StartEventStreamAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies such as nginx would otherwise hold the tokens back
        await response.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one <c>data: {json}</c> event and flushes it, so each token reaches the client as it is made.</summary>
    public static async Task WriteEventAsync(HttpResponse response, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        buffer.Write(EventStart);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        buffer.Write(EventEnd);
        await response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task WriteDoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Done, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>OpenAI's usage object, with llama.cpp's cached prompt tokens and the reasoning tokens in their details.</summary>
    public static void WriteUsage(Utf8JsonWriter writer, UsageDetails usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.InputTokenCount ?? 0);
        writer.WriteNumber("completion_tokens", usage.OutputTokenCount ?? 0);
        writer.WriteNumber("total_tokens", usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0));
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedInputTokenCount ?? 0);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", usage.ReasoningTokenCount ?? 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>One token's entry in a <c>logprobs.content</c> array: its text, bytes, log-probability and alternatives.</summary>
    public static void WriteTokenLogProbability(Utf8JsonWriter writer, LlamaTokenizer tokenizer, LlamaGenerationUpdate token)
    {
        int id = token.TokenId!.Value;
        WriteCandidate(writer, tokenizer, id, token.LogProbability ?? 0, endObject: false);
        writer.WriteStartArray("top_logprobs");
        foreach (LlamaTokenProbability candidate in token.TopLogProbabilities ?? [])
        {
            WriteCandidate(writer, tokenizer, candidate.TokenId, candidate.LogProbability, endObject: true);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteCandidate(Utf8JsonWriter writer, LlamaTokenizer tokenizer, int id, float logProbability, bool endObject)
    {
        byte[] bytes = tokenizer.GetTokenBytes(id);
        writer.WriteStartObject();
        writer.WriteString("token", Encoding.UTF8.GetString(bytes));
        writer.WriteNumber("logprob", float.IsFinite(logProbability) ? logProbability : -9999f);
        writer.WriteStartArray("bytes");
        foreach (byte b in bytes)
        {
            writer.WriteNumberValue(b);
        }

        writer.WriteEndArray();
        if (endObject)
        {
            writer.WriteEndObject();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Request to {Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, PathString path);
}
