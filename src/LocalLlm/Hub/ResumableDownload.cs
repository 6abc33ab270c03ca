using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Polly;

namespace LocalLlm;

/// <summary>
/// Fetches one file into the cache so that nothing is lost: bytes stream into <c>&lt;blob&gt;.incomplete</c>; an
/// interrupted transfer (this process's retry, or a later run) resumes with an HTTP <c>Range</c> from the partial's
/// length; the finished file's SHA-256 is checked against the hub's before it is renamed into place; and a lock file
/// keeps two processes from writing the same blob (the second waits, then finds it done).
/// </summary>
internal sealed class ResumableDownload(HttpClient http, HubClient hub, ResiliencePipeline retries, string reference)
{
    private const int BufferSize = 1 << 20;

    /// <summary>Bytes received over the network by this instance, across files and retries.</summary>
    public long BytesTransferred { get; private set; }

    public async Task FetchAsync(Uri address, string finalPath, string lockPath, string fileName, long? expectedSize, string? expectedSha256, IProgress<LlamaDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        if (File.Exists(finalPath))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        await using FileStream fileLock = await AcquireLockAsync(lockPath, cancellationToken).ConfigureAwait(false);
        if (File.Exists(finalPath))
        {
            return; // another process finished it while this one waited
        }

        string partial = finalPath + ".incomplete";
        try
        {
            await retries.ExecuteAsync(async token => await TransferAsync(address, partial, fileName, expectedSize, progress, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            long kept = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            throw new LlamaModelDownloadException(reference,
                $"Downloading '{fileName}' failed after its retries: {ex.Message} {kept} bytes are kept in {partial}; the next attempt resumes from there.",
                (ex as HttpRequestException)?.StatusCode, ex);
        }

        long length = new FileInfo(partial).Length;
        if (expectedSize is { } size and >= 0 && length != size)
        {
            File.Delete(partial);
            throw new LlamaModelDownloadException(reference, $"'{fileName}' arrived with {length} bytes, but the hub lists {size}; the partial file was deleted, so the next attempt starts afresh.");
        }

        if (expectedSha256 is not null)
        {
            string actual = await HashAsync(partial, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                throw new LlamaModelDownloadException(reference, $"'{fileName}' is corrupt: its SHA-256 is {actual}, but the hub's LFS hash is {expectedSha256}. The partial file was deleted, so the next attempt starts afresh.");
            }
        }

        File.Move(partial, finalPath, overwrite: false);
    }

    private async Task TransferAsync(Uri address, string partial, string fileName, long? expectedSize, IProgress<LlamaDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (expectedSize is { } size and >= 0 && existing == size)
        {
            return; // the whole file is already here; only the check remains
        }

        if (expectedSize is { } limit and >= 0 && existing > limit)
        {
            File.Delete(partial);
            existing = 0;
        }

        using HttpRequestMessage request = hub.Request(HttpMethod.Get, address);
        if (existing > 0)
        {
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(existing, null);
        }

        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(partial); // the partial is not a prefix of this file: start again
            throw new HttpRequestException($"The server could not resume '{fileName}' from byte {existing}.", null, response.StatusCode);
        }

        if (!response.IsSuccessStatusCode)
        {
            if (HubClient.IsTransient(response.StatusCode))
            {
                throw new HttpRequestException($"The server answered {(int)response.StatusCode} for '{fileName}'.", null, response.StatusCode);
            }

            throw hub.Refusal(response.StatusCode, reference, $"file '{fileName}'");
        }

        bool resumed = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (resumed && response.Content.Headers.ContentRange is { From: { } from } && from != existing)
        {
            // The server resumed from somewhere else: the partial cannot be trusted to continue into this answer.
            File.Delete(partial);
            throw new HttpRequestException($"The server resumed '{fileName}' at byte {from}, not {existing}; starting again.");
        }

        long? total = expectedSize is >= 0 ? expectedSize : response.Content.Headers.ContentLength + (resumed ? existing : 0);
        if (total is null)
        {
            // Without a hash or a length there would be no telling a cut transfer from a whole file.
            throw new LlamaModelDownloadException(reference, $"The server sends no length for '{fileName}', and without a length or a hash a complete download could not be told from a cut one.");
        }
        await using var file = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, BufferSize, useAsync: true);
        long received = resumed ? existing : 0;
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = new byte[BufferSize];
        long started = Stopwatch.GetTimestamp();
        long lastReport = 0;
        long thisAttempt = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            received += read;
            thisAttempt += read;
            BytesTransferred += read;
            long now = Stopwatch.GetTimestamp();
            if (progress is not null && Stopwatch.GetElapsedTime(lastReport, now) >= TimeSpan.FromMilliseconds(100))
            {
                lastReport = now;
                progress.Report(new LlamaDownloadProgress(fileName, received, total, thisAttempt / Math.Max(Stopwatch.GetElapsedTime(started, now).TotalSeconds, 1e-3)));
            }
        }

        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (total is { } expected && received < expected)
        {
            // The connection ended early without an error: what arrived stays, and the retry resumes after it.
            throw new IOException($"The transfer of '{fileName}' ended at byte {received} of {expected}.");
        }

        progress?.Report(new LlamaDownloadProgress(fileName, received, total, thisAttempt / Math.Max(Stopwatch.GetElapsedTime(started).TotalSeconds, 1e-3)));
    }

    private static async Task<FileStream> AcquireLockAsync(string lockPath, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (ex.GetType() == typeof(IOException))
            {
                // Held by another downloader of the same file (in this process or another): wait for it. A missing
                // folder or a read-only cache fails as a subclass of IOException or as UnauthorizedAccessException instead.
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        byte[] hash = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }
}
