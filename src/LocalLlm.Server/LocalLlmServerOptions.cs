namespace LocalLlm.Server;

/// <summary>How the OpenAI-compatible endpoints guard and answer their clients.</summary>
public sealed class LocalLlmServerOptions
{
    /// <summary>The configuration section these options bind from by default.</summary>
    public const string SectionName = "LocalLlmServer";

    /// <summary>
    /// Gets the API keys a client may send as <c>Authorization: Bearer &lt;key&gt;</c>. With none here or in
    /// <see cref="ApiKeyFile"/>, every client is served; with any, other requests get 401 (<c>/health</c> is always open).
    /// </summary>
    public IList<string> ApiKeys { get; } = [];

    /// <summary>Gets or sets a file of further API keys, one per line (blank lines and lines starting with <c>#</c> are skipped). Default: null.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>Gets the browser origins allowed to call the endpoints (CORS), such as <c>http://localhost:3000</c>; <c>*</c> allows any. Default: none.</summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Gets or sets the <c>Retry-After</c> seconds sent with a 429 when the request queue is full. Default: 1.</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}
