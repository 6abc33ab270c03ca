namespace LocalLlm;

/// <summary>
/// The models in the Hugging Face hub cache (downloaded by LocalLlm, llama.cpp or huggingface_hub): list them with their
/// sizes, and remove one, so a cache does not only grow.
/// </summary>
public sealed class LlamaModelCache
{
    /// <summary>Opens the cache at <paramref name="directory"/>, or where llama.cpp would look when null.</summary>
    /// <param name="directory">The hub cache folder; null for the default (see <see cref="LlamaModelDownloadOptions.CacheDirectory"/>).</param>
    public LlamaModelCache(string? directory = null)
    {
        Directory = directory ?? HuggingFaceCacheLayout.DefaultRoot();
    }

    /// <summary>Gets the cache folder.</summary>
    public string Directory { get; }

    /// <summary>Lists the cached repositories that hold GGUF files, largest first.</summary>
    /// <returns>The cached models.</returns>
    public IReadOnlyList<LlamaCachedModel> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var models = new List<LlamaCachedModel>();
        foreach (string folder in System.IO.Directory.EnumerateDirectories(Directory, "models--*"))
        {
            string repository = HuggingFaceCacheLayout.RepositoryOf(Path.GetFileName(folder))!;
            string blobs = Path.Combine(folder, "blobs");
            long size = System.IO.Directory.Exists(blobs) ? System.IO.Directory.EnumerateFiles(blobs).Sum(f => new FileInfo(f).Length) : 0;
            string snapshots = Path.Combine(folder, "snapshots");
            string[] files = System.IO.Directory.Exists(snapshots)
                ? [.. System.IO.Directory.EnumerateFiles(snapshots, "*.gguf", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(snapshots, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal)]
                : [];
            if (files.Length > 0 || size > 0)
            {
                models.Add(new LlamaCachedModel(repository, folder, size, files, System.IO.Directory.GetLastWriteTimeUtc(folder)));
            }
        }

        return [.. models.OrderByDescending(m => m.SizeInBytes)];
    }

    /// <summary>Removes a repository's files from the cache (every snapshot and blob).</summary>
    /// <param name="repository">The repository, <c>owner/repo</c>.</param>
    /// <returns>Whether it was cached.</returns>
    /// <exception cref="ArgumentException"><paramref name="repository"/> is not of the form owner/repo.</exception>
    public bool Remove(string repository)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(repository);
        if (!LlamaModelReference.TryParse("hf:" + repository, out LlamaModelReference? reference, out _) || reference.FilePath is not null)
        {
            throw new ArgumentException($"'{repository}' is not a repository name of the form owner/repo.", nameof(repository));
        }

        var layout = new HuggingFaceCacheLayout(Directory);
        string folder = layout.RepositoryDirectory(reference.Repository!);
        if (!System.IO.Directory.Exists(folder))
        {
            return false;
        }

        System.IO.Directory.Delete(folder, recursive: true);
        string locks = Path.Combine(Directory, ".locks", HuggingFaceCacheLayout.FolderName(reference.Repository!));
        if (System.IO.Directory.Exists(locks))
        {
            System.IO.Directory.Delete(locks, recursive: true);
        }

        return true;
    }
}
