using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests.Hub;

/// <summary>
/// A Hugging Face hub on 127.0.0.1 as llama.cpp talks to it: <c>api/models/{repo}/refs</c>, <c>api/models/{repo}/tree/{commit}</c>,
/// and <c>{repo}/resolve/{commit}/{path}</c>, which redirects to a "CDN" on another loopback host name (localhost)
/// serving the bytes with Range and ETag. Faults on demand: cut a file's first transfer after N bytes, corrupt a byte,
/// require a token, answer 5xx. Counts the bytes it sends.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private long _bytesSent;

    private FakeHub(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Cuts the next transfer of any file after this many bytes (once).</summary>
    public long? CutNextTransferAfter { get; set; }

    /// <summary>Serves this many 503s before answering the next file request.</summary>
    public int FailNextFileRequests { get; set; }

    public int FileRequests { get; private set; }

    public List<string?> RangeHeaders { get; } = [];

    public static async Task<FakeHub> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        WebApplication app = builder.Build();
        var hub = new FakeHub(app);
        app.MapGet("/api/models/{owner}/{name}/refs", (HttpContext c, string owner, string name) => hub.Refs(c, $"{owner}/{name}"));
        app.MapGet("/api/models/{owner}/{name}/tree/{commit}", (HttpContext c, string owner, string name, string commit) => hub.Tree(c, $"{owner}/{name}", commit));
        app.MapGet("/{owner}/{name}/resolve/{commit}/{**path}", (HttpContext c, string owner, string name, string commit, string path) => hub.Resolve(c, $"{owner}/{name}", commit, path));
        app.MapGet("/cdn/{sha}", (HttpContext c, string sha) => hub.Serve(c, sha));
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        hub.Endpoint = new Uri(address + "/");
        return hub;
    }

    /// <summary>Adds a repository at a commit on <c>main</c>, holding these files.</summary>
    public string AddRepository(string repository, IReadOnlyDictionary<string, byte[]> files, string? requiredToken = null)
    {
        string commit = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(repository + files.Count)))[..40];
        _repos[repository] = new Repo(commit, files.ToDictionary(f => f.Key, f => f.Value), requiredToken);
        return commit;
    }

    /// <summary>Flips one byte of a file as served (its listed hash stays the original's).</summary>
    public void Corrupt(string repository, string path) => _repos[repository].Corrupted.Add(path);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IResult Refs(HttpContext context, string repository)
    {
        if (Refuse(context, repository) is { } refusal)
        {
            return refusal;
        }

        Repo repo = _repos[repository];
        return Results.Json(new { branches = new[] { new { name = "main", targetCommit = repo.Commit } }, tags = new[] { new { name = "v1", targetCommit = repo.Commit } } });
    }

    private IResult Tree(HttpContext context, string repository, string commit)
    {
        if (Refuse(context, repository) is { } refusal)
        {
            return refusal;
        }

        Repo repo = _repos[repository];
        if (commit != repo.Commit)
        {
            return Results.NotFound();
        }

        return Results.Json(repo.Files.Select(f => new
        {
            type = "file",
            oid = Convert.ToHexStringLower(SHA256.HashData(f.Value))[..40], // a git blob id's shape
            size = f.Value.LongLength,
            path = f.Key,
            lfs = new { oid = Sha256(f.Value), size = f.Value.LongLength, pointerSize = 134 },
        }));
    }

    private IResult Resolve(HttpContext context, string repository, string commit, string path)
    {
        if (Refuse(context, repository) is { } refusal)
        {
            return refusal;
        }

        Repo repo = _repos[repository];
        if (commit != repo.Commit || !repo.Files.TryGetValue(path, out byte[]? bytes))
        {
            return Results.NotFound();
        }

        // The CDN lives on another host name: a client must follow the redirect and must not carry the token there.
        var cdn = new UriBuilder(Endpoint) { Host = "localhost", Path = $"/cdn/{Sha256(bytes)}", Query = $"repo={Uri.EscapeDataString(repository)}&path={Uri.EscapeDataString(path)}" };
        return Results.Redirect(cdn.Uri.AbsoluteUri);
    }

    private async Task Serve(HttpContext context, string sha)
    {
        FileRequests++;
        RangeHeaders.Add(context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null);
        if (context.Request.Headers.Authorization.Count > 0)
        {
            context.Response.StatusCode = 400; // a token must never reach the CDN
            return;
        }

        if (FailNextFileRequests > 0)
        {
            FailNextFileRequests--;
            context.Response.StatusCode = 503;
            return;
        }

        string repository = context.Request.Query["repo"]!;
        string path = context.Request.Query["path"]!;
        Repo repo = _repos[repository];
        byte[] bytes = (byte[])repo.Files[path].Clone();
        if (repo.Corrupted.Contains(path))
        {
            bytes[bytes.Length / 2] ^= 0xFF;
        }

        long start = 0;
        if (context.Request.Headers.Range.Count > 0 && System.Net.Http.Headers.RangeHeaderValue.TryParse(context.Request.Headers.Range.ToString(), out var range) && range.Ranges.First().From is { } from)
        {
            if (from >= bytes.Length)
            {
                context.Response.StatusCode = 416;
                return;
            }

            start = from;
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }

        context.Response.Headers.ETag = $"\"{sha}\"";
        context.Response.ContentLength = bytes.Length - start;
        long? cut = CutNextTransferAfter;
        CutNextTransferAfter = null;
        int offset = (int)start;
        while (offset < bytes.Length)
        {
            int chunk = Math.Min(64 * 1024, bytes.Length - offset);
            if (cut is { } limit && offset - start + chunk > limit)
            {
                chunk = (int)(limit - (offset - start));
                await context.Response.Body.WriteAsync(bytes.AsMemory(offset, chunk));
                Interlocked.Add(ref _bytesSent, chunk);
                await context.Response.Body.FlushAsync();
                await Task.Delay(200); // lets the client read what was sent: an abort can discard what its socket still holds
                context.Abort(); // the connection drops mid-file
                return;
            }

            await context.Response.Body.WriteAsync(bytes.AsMemory(offset, chunk));
            Interlocked.Add(ref _bytesSent, chunk);
            offset += chunk;
        }
    }

    private IResult? Refuse(HttpContext context, string repository)
    {
        if (!_repos.TryGetValue(repository, out Repo? repo))
        {
            return Results.NotFound();
        }

        return repo.RequiredToken is { } token && context.Request.Headers.Authorization.ToString() != $"Bearer {token}" ? Results.StatusCode(401) : null;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private sealed record Repo(string Commit, Dictionary<string, byte[]> Files, string? RequiredToken)
    {
        public HashSet<string> Corrupted { get; } = [];
    }
}
