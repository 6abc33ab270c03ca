namespace LocalLlm;

/// <summary>How model references are resolved and their files fetched.</summary>
public sealed class LlamaModelDownloadOptions
{
    /// <summary>
    /// Gets or sets the hub's address. Default: null, which means the <c>HF_ENDPOINT</c> (or llama.cpp's
    /// <c>MODEL_ENDPOINT</c>) variable, else <c>https://huggingface.co/</c>.
    /// </summary>
    public Uri? HubEndpoint { get; set; }

    /// <summary>
    /// Gets or sets the Hugging Face hub cache folder. Default: null, found as llama.cpp finds it: <c>LLAMA_CACHE</c>,
    /// <c>HF_HUB_CACHE</c>, <c>HUGGINGFACE_HUB_CACHE</c>, <c>HF_HOME</c>/hub, <c>XDG_CACHE_HOME</c>/huggingface/hub,
    /// then ~/.cache/huggingface/hub. Files there are shared with llama.cpp and Python's huggingface_hub.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Gets or sets the access token for gated or private repositories. Default: null, the <c>HF_TOKEN</c> variable.</summary>
    public string? Token { get; set; }

    /// <summary>Gets or sets a value indicating whether to resolve from the cache only. Default: null, the <c>HF_HUB_OFFLINE</c> variable (1 or true).</summary>
    public bool? Offline { get; set; }

    /// <summary>Gets or sets how many times a failed request or an interrupted download is retried (resuming where it stopped). Default: 5.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Gets or sets the first retry's delay; later ones back off exponentially, with jitter. Default: 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the HTTP handler (a proxy, a test server). Default: null, a handler of the downloader's own.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    internal Uri ResolveEndpoint()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } hf ? hf : Environment.GetEnvironmentVariable("MODEL_ENDPOINT");
        Uri endpoint = HubEndpoint ?? (string.IsNullOrEmpty(fromEnvironment) ? new Uri("https://huggingface.co/") : new Uri(fromEnvironment));
        return endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
    }

    internal string? ResolveToken() => Token ?? (Environment.GetEnvironmentVariable("HF_TOKEN") is { Length: > 0 } token ? token : null);

    internal bool ResolveOffline() => Offline ?? Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "True";

    internal void Validate()
    {
        if (MaxRetries is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, $"MaxRetries must be between 0 and 100, but was {MaxRetries}.");
        }

        if (RetryDelay < TimeSpan.Zero || RetryDelay > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, $"RetryDelay must be between 0 and 5 minutes, but was {RetryDelay}.");
        }

        if (HubEndpoint is { IsAbsoluteUri: false })
        {
            throw new ArgumentException($"HubEndpoint must be an absolute address, but was '{HubEndpoint}'.", nameof(HubEndpoint));
        }
    }
}
