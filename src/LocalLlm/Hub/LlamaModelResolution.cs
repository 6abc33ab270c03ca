namespace LocalLlm;

/// <summary>Where a model reference resolved to on disk, and how.</summary>
public sealed record LlamaModelResolution
{
    /// <summary>Gets the reference resolved.</summary>
    public required LlamaModelReference Reference { get; init; }

    /// <summary>Gets the file to load: the model, or the first part of a split model (llama.cpp finds the others beside it).</summary>
    public required string ModelPath { get; init; }

    /// <summary>Gets every file of the model: one, or each part of a split model in order.</summary>
    public required IReadOnlyList<string> Files { get; init; }

    /// <summary>Gets the multimodal projector (<c>mmproj</c>) found beside the model in its repository, or null. It is not downloaded.</summary>
    public string? ProjectorFile { get; init; }

    /// <summary>Gets the commit a hub reference resolved to, or null.</summary>
    public string? Commit { get; init; }

    /// <summary>Gets how many bytes this resolution fetched over the network (0 when every file was cached).</summary>
    public long BytesDownloaded { get; init; }
}
