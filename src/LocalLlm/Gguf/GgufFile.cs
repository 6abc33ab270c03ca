using System.Diagnostics.CodeAnalysis;

namespace LocalLlm.Gguf;

/// <summary>
/// The header of a GGUF file: its version, metadata and tensor table. Reading it never loads tensor data, so it is
/// fast even for files of many gigabytes.
/// </summary>
/// <remarks>
/// Instances are immutable and safe to share between threads. <see cref="Read"/> checks the file the way
/// llama.cpp's GGUF loader does and throws <see cref="GgufFormatException"/> where llama.cpp would refuse it.
/// </remarks>
public sealed class GgufFile
{
    private readonly Dictionary<string, GgufMetadataEntry> _metadataByKey;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    internal GgufFile(
        string filePath,
        uint version,
        uint alignment,
        long dataOffset,
        long fileLength,
        IReadOnlyList<GgufMetadataEntry> metadata,
        IReadOnlyList<GgufTensorInfo> tensors)
    {
        FilePath = filePath;
        Version = version;
        Alignment = alignment;
        DataOffset = dataOffset;
        FileLength = fileLength;
        Metadata = metadata;
        Tensors = tensors;
        _metadataByKey = metadata.ToDictionary(e => e.Key, StringComparer.Ordinal);
        _tensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was read from, as given to <see cref="Read"/>.</summary>
    public string FilePath { get; }

    /// <summary>The GGUF format version: 2 or 3.</summary>
    public uint Version { get; }

    /// <summary>The alignment of the data section and of each tensor: <c>general.alignment</c>, or 32 when absent.</summary>
    public uint Alignment { get; }

    /// <summary>The file offset where the tensor data section starts; tensor offsets are relative to it.</summary>
    public long DataOffset { get; }

    /// <summary>The length of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>All metadata entries, in file order.</summary>
    public IReadOnlyList<GgufMetadataEntry> Metadata { get; }

    /// <summary>The tensor table, in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>The model architecture (<c>general.architecture</c>, for example <c>llama</c>), or null when absent.</summary>
    public string? Architecture =>
        TryGetValue(GgufConstants.ArchitectureKey, out GgufMetadataEntry? entry) ? entry.Value as string : null;

    /// <summary>The metadata entry with the given key.</summary>
    /// <param name="key">The key, for example <c>general.name</c>.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The file has no such key; the message names the key and the file.</exception>
    public GgufMetadataEntry this[string key] =>
        TryGetValue(key, out GgufMetadataEntry? entry)
            ? entry
            : throw new KeyNotFoundException($"The GGUF file '{FilePath}' has no metadata key '{key}'.");

    /// <summary>Reads the header, metadata and tensor table of a GGUF file.</summary>
    /// <param name="path">The path of the file.</param>
    /// <returns>The file's header.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    /// <exception cref="GgufFormatException">
    /// The path is a directory, or the file is empty, not GGUF, of an unsupported version, truncated or malformed;
    /// <see cref="GgufFormatException.Error"/> says which.
    /// </exception>
    /// <exception cref="IOException">The file could not be opened or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The caller may not read the file.</exception>
    public static GgufFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new GgufFormatException(path, GgufFormatError.NotAFile, "the path is a directory, not a file. Pass the path of a .gguf file.");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The GGUF file '{path}' does not exist.", path);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0);
        using var reader = new GgufBinaryReader(stream, path);
        return GgufFileParser.Parse(reader);
    }

    /// <summary>Looks up a metadata entry by key.</summary>
    /// <param name="key">The key, for example <c>general.name</c>.</param>
    /// <param name="entry">The entry when found; otherwise null.</param>
    /// <returns>Whether the key exists.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool TryGetValue(string key, [NotNullWhen(true)] out GgufMetadataEntry? entry)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _metadataByKey.TryGetValue(key, out entry);
    }

    /// <summary>Whether the metadata holds the given key.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when the key exists.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>Returns a metadata value as <typeparamref name="T"/>, which must be its exact CLR type.</summary>
    /// <typeparam name="T">The CLR type, for example <see cref="uint"/> for UInt32 or <c>string[]</c> for an array of strings.</typeparam>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The file has no such key.</exception>
    /// <exception cref="InvalidCastException">The value is of another type.</exception>
    public T GetValue<T>(string key) => this[key].GetValue<T>();

    /// <summary>Looks up a tensor by name.</summary>
    /// <param name="name">The tensor name, for example <c>token_embd.weight</c>.</param>
    /// <param name="tensor">The tensor when found; otherwise null.</param>
    /// <returns>Whether the tensor exists.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out GgufTensorInfo? tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensorsByName.TryGetValue(name, out tensor);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"GGUF v{Version} '{FilePath}': {Architecture ?? "no architecture"}, {Metadata.Count} metadata entries, {Tensors.Count} tensors";
}
