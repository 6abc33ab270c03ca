using System.Net;
using System.Security.Cryptography;
using System.Text;
using Polly;
using Polly.Retry;

namespace LocalLlm;

/// <summary>
/// Resolves model references to files on disk: a local path as it is; <c>hf:</c> references through the Hugging Face
/// hub into the shared hub cache (a model that llama.cpp or huggingface_hub already downloaded is used as it is); and
/// <c>https://</c> addresses into the same cache folder. Downloads resume, retry with back-off, are checked against the
/// hub's SHA-256, and are locked against a second downloader. Offline, the cache alone answers.
/// </summary>
public sealed class LlamaModelDownloader : IDisposable
{
    private readonly LlamaModelDownloadOptions _options;
    private readonly HttpClient _http;
    private readonly HuggingFaceCacheLayout _cache;
    private readonly ResiliencePipeline _retries;

    /// <summary>Creates a downloader.</summary>
    /// <param name="options">The hub, cache, token and retry settings; null for the defaults (read from the environment as llama.cpp does).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public LlamaModelDownloader(LlamaModelDownloadOptions? options = null)
    {
        _options = options ?? new LlamaModelDownloadOptions();
        _options.Validate();
        _http = _options.HttpHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true, ConnectTimeout = TimeSpan.FromSeconds(30) }) { Timeout = Timeout.InfiniteTimeSpan };
        _cache = new HuggingFaceCacheLayout(_options.CacheDirectory ?? HuggingFaceCacheLayout.DefaultRoot());
        _retries = _options.MaxRetries == 0 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                // A dropped connection, a reset, a 5xx or 429: wait and go on from the partial file's end.
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<IOException>(),
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryDelay,
            })
            .Build();
    }

    /// <summary>Gets the hub cache folder files go into.</summary>
    public string CacheDirectory => _cache.Root;

    /// <summary>Resolves a reference, downloading what the cache lacks.</summary>
    /// <param name="reference">A path, <c>hf:owner/repo[:quant][@revision]</c>, <c>hf:owner/repo/file.gguf</c>, or an <c>https://</c> address.</param>
    /// <param name="progress">Receives download progress (bytes, total, rate) at most ten times a second per file; may be null.</param>
    /// <param name="cancellationToken">Stops the download, leaving a partial file the next attempt resumes.</param>
    /// <returns>The files on disk.</returns>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    /// <exception cref="LlamaModelDownloadException">The hub refused, the repository has no such file, the download failed after its retries, the file was corrupt, or offline the cache lacks it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<LlamaModelResolution> ResolveAsync(string reference, IProgress<LlamaDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return ResolveAsync(LlamaModelReference.Parse(reference), progress, cancellationToken);
    }

    /// <inheritdoc cref="ResolveAsync(string, IProgress{LlamaDownloadProgress}?, CancellationToken)"/>
    public async Task<LlamaModelResolution> ResolveAsync(LlamaModelReference reference, IProgress<LlamaDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Source switch
        {
            LlamaModelSource.LocalFile => new LlamaModelResolution { Reference = reference, ModelPath = reference.LocalPath!, Files = [reference.LocalPath!] },
            LlamaModelSource.Url => await ResolveUrlAsync(reference, progress, cancellationToken).ConfigureAwait(false),
            _ => await ResolveHubAsync(reference, progress, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>Frees the HTTP client. Idempotent.</summary>
    public void Dispose() => _http.Dispose();

    private async Task<LlamaModelResolution> ResolveHubAsync(LlamaModelReference reference, IProgress<LlamaDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string repository = reference.Repository!;
        var hub = new HubClient(_http, _options.ResolveEndpoint(), _options.ResolveToken(), reference.Text);
        if (_options.ResolveOffline())
        {
            return FromCache(reference, why: "offline mode (HF_HUB_OFFLINE or LlamaModelDownloadOptions.Offline) allows the cache only");
        }

        string commit;
        IReadOnlyList<HubFile> files;
        try
        {
            (commit, files) = await _retries.ExecuteAsync(async token =>
            {
                string resolved = await hub.ResolveCommitAsync(repository, reference.Revision, token).ConfigureAwait(false);
                return (resolved, await hub.ListFilesAsync(repository, resolved, token).ConfigureAwait(false));
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // The hub cannot be reached: a model cached earlier still serves, as llama.cpp does it.
            return FromCache(reference, why: $"the hub could not be reached ({ex.Message})", ex);
        }

        if (!HubClient.IsCommit(reference.Revision))
        {
            _cache.WriteRef(repository, reference.Revision, commit);
        }

        (HubFile model, IReadOnlyList<HubFile> parts, HubFile? projector) = Pick(reference, files);
        var download = new ResumableDownload(_http, hub, _retries, reference.Text);
        var paths = new List<string>();
        foreach (HubFile part in parts)
        {
            string snapshot = _cache.SnapshotPath(repository, commit, part.Path);
            if (!File.Exists(snapshot))
            {
                string blob = _cache.BlobPath(repository, part.BlobName);
                await download.FetchAsync(hub.FileAddress(repository, commit, part.Path), blob, _cache.LockPath(repository, part.BlobName), part.Path, part.Size, part.Sha256, progress, cancellationToken).ConfigureAwait(false);
                snapshot = _cache.Link(repository, commit, part.Path, part.BlobName);
            }

            paths.Add(snapshot);
        }

        return new LlamaModelResolution { Reference = reference, ModelPath = paths[0], Files = paths, ProjectorFile = projector?.Path, Commit = commit, BytesDownloaded = download.BytesTransferred };
    }

    private LlamaModelResolution FromCache(LlamaModelReference reference, string why, Exception? cause = null)
    {
        string repository = reference.Repository!;
        string? commit = HubClient.IsCommit(reference.Revision) ? reference.Revision.ToLowerInvariant() : _cache.ReadRef(repository, reference.Revision);
        IReadOnlyList<HubFile> files = commit is null ? [] : _cache.SnapshotFiles(repository, commit);
        if (files.Count == 0)
        {
            throw new LlamaModelDownloadException(reference.Text,
                $"'{reference.Text}' is not in the cache and {why}. Looked in {_cache.RepositoryDirectory(repository)} for revision '{reference.Revision}'" +
                (commit is null ? " (no refs entry for it)." : $" (commit {commit}, whose snapshot holds no files)."), innerException: cause);
        }

        (HubFile model, IReadOnlyList<HubFile> parts, HubFile? projector) = Pick(reference, files);
        string[] paths = [.. parts.Select(p => _cache.SnapshotPath(repository, commit!, p.Path))];
        return new LlamaModelResolution { Reference = reference, ModelPath = paths[0], Files = paths, ProjectorFile = projector?.Path, Commit = commit };
    }

    private static (HubFile Model, IReadOnlyList<HubFile> Parts, HubFile? Projector) Pick(LlamaModelReference reference, IReadOnlyList<HubFile> files)
    {
        HubFile? model = reference.FilePath is { } path
            ? files.FirstOrDefault(f => f.Path == path)
            : GgufFilePicker.PickModel(files, reference.Tag);
        if (model is null)
        {
            string available = string.Join(", ", GgufFilePicker.Models(files).Take(20));
            throw new LlamaModelDownloadException(reference.Text,
                (reference.FilePath is not null ? $"The repository '{reference.Repository}' has no file '{reference.FilePath}'."
                    : reference.Tag is not null ? $"The repository '{reference.Repository}' has no GGUF for the quantization '{reference.Tag}'."
                    : $"The repository '{reference.Repository}' holds no GGUF model.") +
                (available.Length > 0 ? $" Its GGUF files: {available}." : string.Empty), HttpStatusCode.NotFound);
        }

        try
        {
            return (model, GgufFilePicker.Parts(files, model), GgufFilePicker.PickProjector(files, model));
        }
        catch (InvalidOperationException ex)
        {
            throw new LlamaModelDownloadException(reference.Text, $"The repository '{reference.Repository}' is incomplete: {ex.Message}.", HttpStatusCode.NotFound, ex);
        }
    }

    private async Task<LlamaModelResolution> ResolveUrlAsync(LlamaModelReference reference, IProgress<LlamaDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        Uri url = reference.Url!;
        string name = Path.GetFileName(Uri.UnescapeDataString(url.AbsolutePath));
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.AbsoluteUri)))[..16];
        string path = Path.Combine(_cache.Root, "urls", key, name.Length > 0 ? name : "model.gguf");
        if (!File.Exists(path) && _options.ResolveOffline())
        {
            throw new LlamaModelDownloadException(reference.Text, $"'{url}' is not in the cache ({path}) and offline mode allows the cache only.");
        }

        var hub = new HubClient(_http, new Uri(url.GetLeftPart(UriPartial.Authority) + "/"), token: null, reference.Text);
        var download = new ResumableDownload(_http, hub, _retries, reference.Text);
        await download.FetchAsync(url, path, Path.Combine(_cache.Root, ".locks", "urls", key + ".lock"), name, expectedSize: null, expectedSha256: null, progress, cancellationToken).ConfigureAwait(false);
        return new LlamaModelResolution { Reference = reference, ModelPath = path, Files = [path], BytesDownloaded = download.BytesTransferred };
    }
}
