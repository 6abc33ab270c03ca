namespace LocalLlm.Server;

/// <summary>A request the server refuses, with what the OpenAI error envelope says about it.</summary>
internal sealed class OpenAiRequestException : Exception
{
    public OpenAiRequestException(int statusCode, string message, string? parameter, string type = "invalid_request_error", string? code = null)
        : base(message)
    {
        StatusCode = statusCode;
        Parameter = parameter;
        Type = type;
        Code = code;
    }

    /// <summary>Gets the HTTP status code.</summary>
    public int StatusCode { get; }

    /// <summary>Gets the request field at fault (<c>messages[2].role</c>), or null.</summary>
    public string? Parameter { get; }

    /// <summary>Gets the error type (<c>invalid_request_error</c>, <c>authentication_error</c>, …).</summary>
    public string Type { get; }

    /// <summary>Gets the error code (<c>model_not_found</c>, <c>context_length_exceeded</c>, …), or null.</summary>
    public string? Code { get; }

    public static OpenAiRequestException BadRequest(string? parameter, string message, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, parameter, code: code);
}
