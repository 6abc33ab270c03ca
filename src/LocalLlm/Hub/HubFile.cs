namespace LocalLlm;

/// <summary>One file of a hub repository at a commit: its path, size, and (for LFS files, which GGUFs are) its SHA-256.</summary>
internal sealed record HubFile(string Path, long Size, string? Sha256, string? GitBlobId)
{
    /// <summary>The blob's name in the cache: the SHA-256 for LFS files, the git blob id otherwise.</summary>
    public string BlobName => Sha256 ?? GitBlobId ?? throw new InvalidOperationException($"The hub listed '{Path}' with neither an LFS hash nor a git blob id.");
}
