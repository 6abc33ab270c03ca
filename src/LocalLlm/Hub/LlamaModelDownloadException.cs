using System.Net;

namespace LocalLlm;

/// <summary>A model reference could not be resolved or its files could not be fetched: the message says why and what to do.</summary>
public sealed class LlamaModelDownloadException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reference">The reference being resolved.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="statusCode">The HTTP status that refused it, if any.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public LlamaModelDownloadException(string reference, string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Reference = reference;
        StatusCode = statusCode;
    }

    /// <summary>Gets the reference being resolved (<c>hf:owner/repo:Q4_K_M</c>, an address).</summary>
    public string Reference { get; }

    /// <summary>Gets the HTTP status that refused the request, or null when none did.</summary>
    public HttpStatusCode? StatusCode { get; }
}
