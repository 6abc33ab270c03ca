using System.Net;
using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Hub;

/// <summary>Resolving <c>hf:</c> references against a hub imitated on loopback: picks, the cache layout, and downloads that can be trusted.</summary>
[NonParallelizable]
public sealed class ModelDownloaderTests
{
    private FakeHub _hub = null!;
    private string _cache = null!;

    [SetUp]
    public async Task StartHub()
    {
        _hub = await FakeHub.StartAsync();
        _cache = Path.Combine(Path.GetTempPath(), $"localllm-hub-{Guid.NewGuid():N}");
    }

    [TearDown]
    public async Task StopHub()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    private LlamaModelDownloader Downloader(int retries = 3, string? token = null, bool offline = false) => new(new LlamaModelDownloadOptions
    {
        HubEndpoint = _hub.Endpoint,
        CacheDirectory = _cache,
        MaxRetries = retries,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        Token = token,
        Offline = offline,
    });

    private static byte[] Bytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Test]
    public async Task TheDefaultPick_IsQ4KM_ThenQ8_0_ThenTheFirstGguf_AndATagPicksAnyCase()
    {
        _hub.AddRepository("o/all", new Dictionary<string, byte[]>
        {
            ["model-Q2_K.gguf"] = Bytes(10, 1), ["model-Q4_K_M.gguf"] = Bytes(11, 2), ["model-Q8_0.gguf"] = Bytes(12, 3),
            ["mmproj-model-f16.gguf"] = Bytes(13, 4), ["README.md"] = Bytes(5, 5),
        });
        _hub.AddRepository("o/no-q4", new Dictionary<string, byte[]> { ["a-Q2_K.gguf"] = Bytes(10, 1), ["a-Q8_0.gguf"] = Bytes(12, 3) });
        _hub.AddRepository("o/other", new Dictionary<string, byte[]> { ["mmproj-x.gguf"] = Bytes(9, 1), ["x-IQ2_XS.gguf"] = Bytes(10, 2) });
        using LlamaModelDownloader downloader = Downloader();

        LlamaModelResolution all = await downloader.ResolveAsync("hf:o/all");
        LlamaModelResolution tagged = await downloader.ResolveAsync("hf:o/all:q2_k");
        LlamaModelResolution noQ4 = await downloader.ResolveAsync("hf:o/no-q4");
        LlamaModelResolution other = await downloader.ResolveAsync("hf:o/other");
        LlamaModelResolution named = await downloader.ResolveAsync("hf:o/all/model-Q8_0.gguf");

        Assert.Multiple(() =>
        {
            Assert.That(Path.GetFileName(all.ModelPath), Is.EqualTo("model-Q4_K_M.gguf"));
            Assert.That(all.ProjectorFile, Is.EqualTo("mmproj-model-f16.gguf"), "the projector is noted");
            Assert.That(File.Exists(Path.Combine(Path.GetDirectoryName(all.ModelPath)!, "mmproj-model-f16.gguf")), Is.False, "but not downloaded");
            Assert.That(Path.GetFileName(tagged.ModelPath), Is.EqualTo("model-Q2_K.gguf"));
            Assert.That(Path.GetFileName(noQ4.ModelPath), Is.EqualTo("a-Q8_0.gguf"));
            Assert.That(Path.GetFileName(other.ModelPath), Is.EqualTo("x-IQ2_XS.gguf"), "never the projector");
            Assert.That(Path.GetFileName(named.ModelPath), Is.EqualTo("model-Q8_0.gguf"));
        });
        var missingTag = Assert.ThrowsAsync<LlamaModelDownloadException>(() => downloader.ResolveAsync("hf:o/all:Q5_K_S"));
        Assert.That(missingTag!.Message, Does.Contain("Q5_K_S").And.Contain("model-Q4_K_M.gguf"), "the error lists what there is");
    }

    [Test]
    public async Task ListedPathsThatWouldLeaveTheCache_AreIgnored()
    {
        _hub.AddRepository("o/escape", new Dictionary<string, byte[]>
        {
            ["../../escaped-Q4_K_M.gguf"] = Bytes(10, 1), ["/abs-Q4_K_M.gguf"] = Bytes(10, 2), ["ok-Q8_0.gguf"] = Bytes(10, 3),
        });
        using LlamaModelDownloader downloader = Downloader();

        LlamaModelResolution resolution = await downloader.ResolveAsync("hf:o/escape");

        Assert.That(Path.GetFileName(resolution.ModelPath), Is.EqualTo("ok-Q8_0.gguf"), "the Q4_K_M entries were not safe paths, so they were never candidates");
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(_cache)!, "escaped-*", SearchOption.TopDirectoryOnly), Is.Empty);
    }

    [Test]
    public async Task Files_LandInTheHubCacheLayout_AndAResolveAgainIsServedFromIt()
    {
        byte[] model = Bytes(300_000, 7);
        string commit = _hub.AddRepository("owner/repo", new Dictionary<string, byte[]> { ["m-Q4_K_M.gguf"] = model });
        using LlamaModelDownloader downloader = Downloader();

        LlamaModelResolution first = await downloader.ResolveAsync("hf:owner/repo");
        long sentAfterFirst = _hub.BytesSent;
        LlamaModelResolution again = await downloader.ResolveAsync("hf:owner/repo");

        string repo = Path.Combine(_cache, "models--owner--repo");
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model));
        Assert.Multiple(() =>
        {
            Assert.That(first.ModelPath, Is.EqualTo(Path.Combine(repo, "snapshots", commit, "m-Q4_K_M.gguf")));
            Assert.That(new FileInfo(first.ModelPath).LinkTarget, Is.EqualTo(Path.Combine("..", "..", "blobs", sha)), "a relative link to the blob, as huggingface_hub makes it");
            Assert.That(File.ReadAllBytes(first.ModelPath), Is.EqualTo(model));
            Assert.That(File.ReadAllText(Path.Combine(repo, "refs", "main")), Is.EqualTo(commit));
            Assert.That(first.BytesDownloaded, Is.EqualTo(model.Length));
            Assert.That(again.BytesDownloaded, Is.Zero);
            Assert.That(_hub.BytesSent, Is.EqualTo(sentAfterFirst), "nothing fetched twice");
        });
    }

    [Test]
    public async Task SplitModels_AreFetchedWhole_AndLoadFromTheFirstPart()
    {
        _hub.AddRepository("o/split", new Dictionary<string, byte[]>
        {
            ["Q4_K_M/big-Q4_K_M-00001-of-00003.gguf"] = Bytes(1000, 1),
            ["Q4_K_M/big-Q4_K_M-00002-of-00003.gguf"] = Bytes(1000, 2),
            ["Q4_K_M/big-Q4_K_M-00003-of-00003.gguf"] = Bytes(500, 3),
            ["Q8_0/big-Q8_0-00001-of-00002.gguf"] = Bytes(1000, 4),
            ["Q8_0/big-Q8_0-00002-of-00002.gguf"] = Bytes(1000, 5),
        });
        using LlamaModelDownloader downloader = Downloader();

        LlamaModelResolution resolution = await downloader.ResolveAsync("hf:o/split");

        Assert.Multiple(() =>
        {
            Assert.That(resolution.Files.Select(Path.GetFileName), Is.EqualTo(new[] { "big-Q4_K_M-00001-of-00003.gguf", "big-Q4_K_M-00002-of-00003.gguf", "big-Q4_K_M-00003-of-00003.gguf" }));
            Assert.That(resolution.ModelPath, Is.EqualTo(resolution.Files[0]));
            Assert.That(resolution.Files.All(File.Exists), Is.True, "every part sits beside the first, where llama.cpp looks for them");
            Assert.That(resolution.BytesDownloaded, Is.EqualTo(2500));
        });
    }

    [Test]
    public async Task AConnectionCutMidFile_IsResumedWithRange_AfterARestart_FetchingOnlyTheRest()
    {
        byte[] model = Bytes(1_000_000, 11);
        _hub.AddRepository("o/resume", new Dictionary<string, byte[]> { ["r-Q4_K_M.gguf"] = model });
        _hub.CutNextTransferAfter = 400_000;

        using (LlamaModelDownloader noRetries = Downloader(retries: 0))
        {
            Assert.CatchAsync(() => noRetries.ResolveAsync("hf:o/resume"), "the first process gives up after the cut");
        }

        string[] partials = Directory.GetFiles(_cache, "*.incomplete", SearchOption.AllDirectories);
        long kept = new FileInfo(partials.Single()).Length;
        long sentBefore = _hub.BytesSent;
        using LlamaModelDownloader restarted = Downloader();
        LlamaModelResolution resolution = await restarted.ResolveAsync("hf:o/resume");

        Assert.Multiple(() =>
        {
            // The server sent 400,000 bytes before dropping the connection; what the client had read by then stays.
            Assert.That(kept, Is.GreaterThan(0).And.LessThanOrEqualTo(400_000), "what arrived before the cut stayed on disk");
            Assert.That(_hub.RangeHeaders[^1], Is.EqualTo($"bytes={kept}-"));
            Assert.That(resolution.BytesDownloaded, Is.EqualTo(model.Length - kept), "only the rest was fetched");
            Assert.That(_hub.BytesSent - sentBefore, Is.EqualTo(model.Length - kept));
            Assert.That(File.ReadAllBytes(resolution.ModelPath), Is.EqualTo(model), "and the file is whole (its SHA-256 was checked)");
            Assert.That(Directory.GetFiles(_cache, "*.incomplete", SearchOption.AllDirectories), Is.Empty);
        });
        TestContext.Out.WriteLine($"resume: {kept} bytes kept from the cut transfer, {resolution.BytesDownloaded} fetched on resume, {model.Length} in the file");
    }

    [Test]
    public async Task ACutAndTransientErrors_AreRetriedWithinOneCall()
    {
        byte[] model = Bytes(500_000, 12);
        _hub.AddRepository("o/flaky", new Dictionary<string, byte[]> { ["f-Q4_K_M.gguf"] = model });
        _hub.FailNextFileRequests = 2;
        _hub.CutNextTransferAfter = 200_000;
        using LlamaModelDownloader downloader = Downloader(retries: 5);

        LlamaModelResolution resolution = await downloader.ResolveAsync("hf:o/flaky");

        Assert.That(File.ReadAllBytes(resolution.ModelPath), Is.EqualTo(model));
        Assert.That(_hub.FileRequests, Is.EqualTo(4), "two 503s, the cut transfer, the resumed one");
        Assert.That(resolution.BytesDownloaded, Is.EqualTo(model.Length), "the bytes read before the cut plus the rest, none twice");
    }

    [Test]
    public void ACorruptedByte_IsRejected_NamingBothHashes_AndThePartialIsDeleted()
    {
        byte[] model = Bytes(100_000, 13);
        _hub.AddRepository("o/bad", new Dictionary<string, byte[]> { ["b-Q4_K_M.gguf"] = model });
        _hub.Corrupt("o/bad", "b-Q4_K_M.gguf");
        using LlamaModelDownloader downloader = Downloader();

        LlamaModelDownloadException? error = Assert.ThrowsAsync<LlamaModelDownloadException>(() => downloader.ResolveAsync("hf:o/bad"));

        string expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Does.Contain(expected).And.Contain("corrupt"));
            Assert.That(error.Message, Does.Match("SHA-256 is [0-9a-f]{64}"));
            Assert.That(Directory.GetFiles(_cache, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Where(f => !f.Contains("refs", StringComparison.Ordinal)), Is.Empty, "no partial, no blob, no link");
        });
    }

    [Test]
    public async Task AGatedRepository_Says401AndHowToAuthenticate_AndATokenOpensIt_WithoutReachingTheCdn()
    {
        _hub.AddRepository("o/gated", new Dictionary<string, byte[]> { ["g-Q4_K_M.gguf"] = Bytes(1000, 1) }, requiredToken: "secret");

        using (LlamaModelDownloader anonymous = Downloader())
        {
            LlamaModelDownloadException? refused = Assert.ThrowsAsync<LlamaModelDownloadException>(() => anonymous.ResolveAsync("hf:o/gated"));
            Assert.That(refused!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(refused.Message, Does.Contain("gated").And.Contain("HF_TOKEN"));
        }

        using LlamaModelDownloader withToken = Downloader(token: "secret");
        LlamaModelResolution resolution = await withToken.ResolveAsync("hf:o/gated");
        Assert.That(File.Exists(resolution.ModelPath), Is.True, "the CDN (which refuses any Authorization header) served it: the token stayed with the hub");
    }

    [Test]
    public void AnUnknownRepository_Is404_NamingIt()
    {
        using LlamaModelDownloader downloader = Downloader();
        LlamaModelDownloadException? error = Assert.ThrowsAsync<LlamaModelDownloadException>(() => downloader.ResolveAsync("hf:nobody/nothing"));
        Assert.That(error!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(error.Message, Does.Contain("nobody/nothing"));
    }

    [Test]
    public async Task Offline_ResolvesFromTheCache_AndSaysWhatIsMissing()
    {
        _hub.AddRepository("o/cached", new Dictionary<string, byte[]> { ["c-Q4_K_M.gguf"] = Bytes(2000, 1) });
        using (LlamaModelDownloader online = Downloader())
        {
            await online.ResolveAsync("hf:o/cached");
        }

        long sent = _hub.BytesSent;
        using LlamaModelDownloader offline = Downloader(offline: true);
        LlamaModelResolution hit = await offline.ResolveAsync("hf:o/cached");
        LlamaModelDownloadException? miss = Assert.ThrowsAsync<LlamaModelDownloadException>(() => offline.ResolveAsync("hf:o/elsewhere"));

        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(hit.ModelPath), Is.True);
            Assert.That(_hub.BytesSent, Is.EqualTo(sent));
            Assert.That(miss!.Message, Does.Contain("not in the cache").And.Contain("offline").And.Contain("models--o--elsewhere"));
        });
    }

    [Test]
    public async Task TwoDownloadersOfTheSameFile_DoNotCorruptIt_AndFetchItOnce()
    {
        byte[] model = Bytes(2_000_000, 21);
        _hub.AddRepository("o/race", new Dictionary<string, byte[]> { ["race-Q4_K_M.gguf"] = model });
        using LlamaModelDownloader first = Downloader();
        using LlamaModelDownloader second = Downloader();

        LlamaModelResolution[] results = await Task.WhenAll(first.ResolveAsync("hf:o/race"), second.ResolveAsync("hf:o/race"));

        Assert.Multiple(() =>
        {
            Assert.That(results.Select(r => File.ReadAllBytes(r.ModelPath)), Is.All.EqualTo(model));
            Assert.That(_hub.BytesSent, Is.EqualTo(model.Length), "the second waited on the lock and found the file done");
        });
    }

    [Test]
    public async Task Cancellation_LeavesAResumablePartial()
    {
        byte[] model = Bytes(3_000_000, 31);
        _hub.AddRepository("o/cancel", new Dictionary<string, byte[]> { ["k-Q4_K_M.gguf"] = model });
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.BytesReceived > 0)
            {
                cancel.Cancel();
            }
        });

        using (LlamaModelDownloader downloader = Downloader())
        {
            Assert.CatchAsync<OperationCanceledException>(() => downloader.ResolveAsync("hf:o/cancel", progress, cancel.Token));
        }

        long kept = Directory.GetFiles(_cache, "*.incomplete", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        using LlamaModelDownloader again = Downloader();
        LlamaModelResolution resolution = await again.ResolveAsync("hf:o/cancel");

        Assert.That(kept, Is.GreaterThan(0).And.LessThan(model.Length));
        Assert.That(resolution.BytesDownloaded, Is.EqualTo(model.Length - kept));
        Assert.That(File.ReadAllBytes(resolution.ModelPath), Is.EqualTo(model));
    }

    [Test]
    public async Task TheCache_ListsModelsWithSizes_AndRemovesOne()
    {
        _hub.AddRepository("o/one", new Dictionary<string, byte[]> { ["one-Q4_K_M.gguf"] = Bytes(5000, 1) });
        _hub.AddRepository("o/two", new Dictionary<string, byte[]> { ["two-Q4_K_M.gguf"] = Bytes(9000, 2) });
        using (LlamaModelDownloader downloader = Downloader())
        {
            await downloader.ResolveAsync("hf:o/one");
            await downloader.ResolveAsync("hf:o/two");
        }

        var cache = new LlamaModelCache(_cache);
        IReadOnlyList<LlamaCachedModel> listed = cache.List();
        bool removed = cache.Remove("o/two");

        Assert.Multiple(() =>
        {
            Assert.That(listed.Select(m => (m.Repository, m.SizeInBytes)), Is.EqualTo(new[] { ("o/two", 9000L), ("o/one", 5000L) }));
            Assert.That(listed[0].Files.Single(), Does.EndWith("/two-Q4_K_M.gguf"));
            Assert.That(removed, Is.True);
            Assert.That(cache.List().Select(m => m.Repository), Is.EqualTo(new[] { "o/one" }));
            Assert.That(cache.Remove("o/two"), Is.False);
            Assert.Throws<ArgumentException>(() => cache.Remove("not a repo"));
        });
    }

    [Test]
    public async Task LlamaModelLoadAsync_TakesAnHfReference_AndLoadsTheDownloadedModel()
    {
        byte[] tiny = File.ReadAllBytes(GeneratedModels.Ensure(ModelShape.Tiny));
        _hub.AddRepository("local/tiny-GGUF", new Dictionary<string, byte[]> { ["tiny-Q8_0.gguf"] = tiny });
        var reported = new List<LlamaDownloadProgress>();
        var options = new LlamaModelOptions
        {
            Download = new LlamaModelDownloadOptions { HubEndpoint = _hub.Endpoint, CacheDirectory = _cache, RetryDelay = TimeSpan.FromMilliseconds(10) },
            DownloadProgress = new SynchronousProgress(reported.Add),
        };

        using LlamaModel model = await LlamaModel.LoadAsync("hf:local/tiny-GGUF:Q8_0", options);

        Assert.Multiple(() =>
        {
            Assert.That(model.Path, Does.Contain(Path.Combine("models--local--tiny-GGUF", "snapshots")));
            Assert.That(model.Tokenizer.Tokenize("hello").Length, Is.GreaterThan(0));
            Assert.That(reported[^1].BytesReceived, Is.EqualTo(tiny.Length));
            Assert.That(reported[^1].TotalBytes, Is.EqualTo(tiny.Length));
        });
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool, after the fact).</summary>
    private sealed class SynchronousProgress(Action<LlamaDownloadProgress> report) : IProgress<LlamaDownloadProgress>
    {
        public void Report(LlamaDownloadProgress value) => report(value);
    }
}
