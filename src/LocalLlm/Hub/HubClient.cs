using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LocalLlm;

/// <summary>
/// The hub's API as llama.cpp uses it (common/hf-cache.cpp): <c>api/models/{repo}/refs</c> for the commit a branch or
/// tag points at, <c>api/models/{repo}/tree/{commit}?recursive=true</c> for the files with their LFS hashes, and
/// <c>{repo}/resolve/{commit}/{path}</c> for the bytes (a redirect to a CDN). The token goes to the hub only; .NET drops
/// it on a redirect to another host.
/// </summary>
internal sealed partial class HubClient(HttpClient http, Uri endpoint, string? token, string reference)
{
    public static bool IsCommit(string revision) => CommitPattern().IsMatch(revision);

    public async Task<string> ResolveCommitAsync(string repository, string revision, CancellationToken cancellationToken)
    {
        if (IsCommit(revision))
        {
            return revision.ToLowerInvariant();
        }

        using JsonDocument refs = await GetJsonAsync($"api/models/{repository}/refs", repository, cancellationToken).ConfigureAwait(false);
        foreach (string kind in new[] { "branches", "tags" })
        {
            if (!refs.RootElement.TryGetProperty(kind, out JsonElement list) || list.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (JsonElement item in list.EnumerateArray())
            {
                if (item.TryGetProperty("name", out JsonElement name) && name.GetString() == revision
                    && item.TryGetProperty("targetCommit", out JsonElement commit) && commit.GetString() is { } sha && IsCommit(sha))
                {
                    return sha.ToLowerInvariant();
                }
            }
        }

        throw new LlamaModelDownloadException(reference, $"The repository '{repository}' has no branch or tag '{revision}'.", HttpStatusCode.NotFound);
    }

    public async Task<IReadOnlyList<HubFile>> ListFilesAsync(string repository, string commit, CancellationToken cancellationToken)
    {
        using JsonDocument tree = await GetJsonAsync($"api/models/{repository}/tree/{commit}?recursive=true", repository, cancellationToken).ConfigureAwait(false);
        var files = new List<HubFile>();
        foreach (JsonElement item in tree.RootElement.EnumerateArray())
        {
            if (item.TryGetProperty("type", out JsonElement type) && type.GetString() == "file" && item.TryGetProperty("path", out JsonElement path) && path.GetString() is { } filePath
                && IsSafePath(filePath))
            {
                string? sha256 = item.TryGetProperty("lfs", out JsonElement lfs) && lfs.ValueKind == JsonValueKind.Object && lfs.TryGetProperty("oid", out JsonElement oid) ? oid.GetString() : null;
                long size = item.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) ? n : -1;
                string? blob = item.TryGetProperty("oid", out JsonElement gitOid) ? gitOid.GetString() : null;
                sha256 = sha256 is not null && Sha256Pattern().IsMatch(sha256) ? sha256.ToLowerInvariant() : null;
                blob = blob is not null && (CommitPattern().IsMatch(blob) || Sha256Pattern().IsMatch(blob)) ? blob.ToLowerInvariant() : null;
                if (sha256 is not null || blob is not null)
                {
                    // Names from the listing become cache paths: only relative paths of plain segments and hex blob
                    // names get there, as llama.cpp's is_valid_subpath and is_valid_oid allow.
                    files.Add(new HubFile(filePath, size, sha256, blob));
                }
            }
        }

        return files;
    }

    /// <summary>A repository path that stays inside its snapshot folder: plain segments, no <c>..</c>, no root, no backslash.</summary>
    public static bool IsSafePath(string path) =>
        path.Length is > 0 and < 1024 && !path.Contains('\\') && !path.StartsWith('/') &&
        path.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != ".." && !segment.Contains(':') && segment.IndexOfAny(Path.GetInvalidFileNameChars()) < 0);

    public Uri FileAddress(string repository, string commit, string path) =>
        new(endpoint, $"{repository}/resolve/{commit}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    public HttpRequestMessage Request(HttpMethod method, Uri address)
    {
        var request = new HttpRequestMessage(method, address);
        if (token is not null && address.Host == endpoint.Host)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        request.Headers.UserAgent.ParseAdd("LocalLlm (llama.cpp)");
        return request;
    }

    /// <summary>Turns a refusal into an exception that says what it means for the user.</summary>
    public LlamaModelDownloadException Refusal(HttpStatusCode status, string repository, string what) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new LlamaModelDownloadException(reference,
            $"The hub refused {what} ({(int)status} {status}): the repository '{repository}' is gated or private. Accept its terms on the hub, then set HF_TOKEN (or LlamaModelDownloadOptions.Token) to an access token{(token is null ? "; none is set now" : "; the one set now is not accepted")}.", status),
        HttpStatusCode.NotFound => new LlamaModelDownloadException(reference, $"The hub has no {what} ({(int)status}): check the repository name '{repository}' and the revision.", status),
        _ => new LlamaModelDownloadException(reference, $"The hub answered {(int)status} {status} for {what}.", status),
    };

    public static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private async Task<JsonDocument> GetJsonAsync(string relative, string repository, CancellationToken cancellationToken)
    {
        using HttpRequestMessage request = Request(HttpMethod.Get, new Uri(endpoint, relative));
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            if (IsTransient(response.StatusCode))
            {
                throw new HttpRequestException($"The hub answered {(int)response.StatusCode} for {relative}.", null, response.StatusCode);
            }

            throw Refusal(response.StatusCode, repository, $"listing of '{repository}'");
        }

        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(body, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new LlamaModelDownloadException(reference, $"The hub's answer to {relative} is not JSON: {ex.Message}", response.StatusCode, ex);
        }

        JsonValueKind expected = relative.Contains("/tree/", StringComparison.Ordinal) ? JsonValueKind.Array : JsonValueKind.Object;
        if (document.RootElement.ValueKind != expected)
        {
            document.Dispose();
            throw new LlamaModelDownloadException(reference, $"The hub's answer to {relative} is not the JSON {expected.ToString().ToLowerInvariant()} its API gives; is {endpoint} a Hugging Face hub?", response.StatusCode);
        }

        return document;
    }

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex CommitPattern();

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Pattern();
}
