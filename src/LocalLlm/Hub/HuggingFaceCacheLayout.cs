namespace LocalLlm;

/// <summary>
/// The Hugging Face hub cache on disk, as huggingface_hub and llama.cpp lay it out:
/// <c>models--owner--repo/blobs/&lt;sha256&gt;</c> (the bytes), <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c> (links to the
/// blobs), <c>refs/&lt;branch&gt;</c> (the commit a branch pointed at), and <c>.locks/</c> for writers.
/// </summary>
internal sealed class HuggingFaceCacheLayout(string root)
{
    public string Root { get; } = root;

    public static string DefaultRoot()
    {
        (string Variable, string[] Below)[] candidates =
        [
            ("LLAMA_CACHE", []),
            ("HF_HUB_CACHE", []),
            ("HUGGINGFACE_HUB_CACHE", []),
            ("HF_HOME", ["hub"]),
            ("XDG_CACHE_HOME", ["huggingface", "hub"]),
            ("HOME", [".cache", "huggingface", "hub"]),
        ];
        foreach ((string variable, string[] below) in candidates)
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                return Path.Combine([value, .. below]);
            }
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub");
    }

    public static string FolderName(string repository) => "models--" + repository.Replace("/", "--", StringComparison.Ordinal);

    public static string? RepositoryOf(string folderName) =>
        folderName.StartsWith("models--", StringComparison.Ordinal) ? folderName["models--".Length..].Replace("--", "/", StringComparison.Ordinal) : null;

    public string RepositoryDirectory(string repository) => Path.Combine(Root, FolderName(repository));

    public string BlobPath(string repository, string blob) => Path.Combine(RepositoryDirectory(repository), "blobs", blob);

    public string SnapshotPath(string repository, string commit, string file) => Path.Combine([RepositoryDirectory(repository), "snapshots", commit, .. file.Split('/')]);

    public string LockPath(string repository, string blob) => Path.Combine(Root, ".locks", FolderName(repository), blob + ".lock");

    public string? ReadRef(string repository, string revision)
    {
        string path = Path.Combine(RepositoryDirectory(repository), "refs", revision);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    public void WriteRef(string repository, string revision, string commit)
    {
        string path = Path.Combine([RepositoryDirectory(repository), "refs", .. revision.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, commit);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Points <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c> at the blob with a relative link, as huggingface_hub does.</summary>
    public string Link(string repository, string commit, string file, string blob)
    {
        string snapshot = SnapshotPath(repository, commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(snapshot)!);
        string target = Path.GetRelativePath(Path.GetDirectoryName(snapshot)!, BlobPath(repository, blob));
        if (File.Exists(snapshot) || new FileInfo(snapshot).LinkTarget is not null)
        {
            File.Delete(snapshot);
        }

        try
        {
            File.CreateSymbolicLink(snapshot, target);
        }
        catch (IOException) when (File.Exists(snapshot))
        {
            // Another process linked it first: the same blob either way.
        }

        return snapshot;
    }

    /// <summary>The files of a cached snapshot, as repository paths (<c>sub/model.gguf</c>), with what they point at.</summary>
    public IReadOnlyList<HubFile> SnapshotFiles(string repository, string commit)
    {
        string directory = Path.Combine(RepositoryDirectory(repository), "snapshots", commit);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(File.Exists) // a link whose blob is gone is not a cached file
            .Select(f => new HubFile(Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'), new FileInfo(f).Length, null, null))
            .OrderBy(f => f.Path, StringComparer.Ordinal)];
    }
}
