namespace LocalLlm;

/// <summary>How far a model download has come.</summary>
/// <param name="FileName">The file being fetched (its path in the repository, or its address's file name).</param>
/// <param name="BytesReceived">Bytes of the file on disk so far, a resumed partial's included.</param>
/// <param name="TotalBytes">The file's size, when known.</param>
/// <param name="BytesPerSecond">The rate over the download so far in this attempt.</param>
public readonly record struct LlamaDownloadProgress(string FileName, long BytesReceived, long? TotalBytes, double BytesPerSecond)
{
    /// <summary>Gets the time left at the current rate, when the size is known and bytes are arriving.</summary>
    public TimeSpan? EstimatedTimeLeft => TotalBytes is { } total && BytesPerSecond > 0 ? TimeSpan.FromSeconds((total - BytesReceived) / BytesPerSecond) : null;
}
