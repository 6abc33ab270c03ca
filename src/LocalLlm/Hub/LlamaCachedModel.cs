namespace LocalLlm;

/// <summary>A repository in the hub cache: its name, the bytes its blobs take, and the GGUF files of its snapshots.</summary>
/// <param name="Repository">The repository, <c>owner/repo</c>.</param>
/// <param name="Directory">Its folder in the cache.</param>
/// <param name="SizeInBytes">The bytes its blobs take on disk (partial downloads included).</param>
/// <param name="Files">The GGUF files of its snapshots, as <c>commit/path</c>.</param>
/// <param name="LastModified">When its folder last changed.</param>
public sealed record LlamaCachedModel(string Repository, string Directory, long SizeInBytes, IReadOnlyList<string> Files, DateTimeOffset LastModified);
