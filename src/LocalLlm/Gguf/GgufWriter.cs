using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace LocalLlm.Gguf;

/// <summary>
/// Builds a GGUF version 3 file: metadata of every value type and tensors, written with the alignment padding
/// llama.cpp expects. Tensor data is streamed to the file one tensor (or one slice of rows) at a time.
/// </summary>
/// <remarks>
/// Add metadata and tensors, then call <see cref="WriteTo(string)"/>. The alignment is 32 bytes unless a
/// <c>general.alignment</c> UInt32 entry sets another power of two. An instance is not thread-safe.
/// </remarks>
public sealed class GgufWriter
{
    private const int ChunkElements = 1 << 20;

    private readonly List<GgufMetadataEntry> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    /// <summary>The metadata entries added so far, in the order they will be written.</summary>
    public IReadOnlyList<GgufMetadataEntry> Metadata => _metadata;

    /// <summary>The names of the tensors added so far, in the order they will be written.</summary>
    public IReadOnlyList<string> TensorNames => _tensors.ConvertAll(t => t.Name);

    /// <summary>Adds a metadata entry, or replaces the value of an existing entry with the same key in place.</summary>
    /// <param name="entry">The entry, for example one copied from <see cref="GgufFile.Metadata"/>.</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="entry"/> is null.</exception>
    public GgufWriter SetMetadata(GgufMetadataEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        int index = _metadata.FindIndex(e => e.Key == entry.Key);
        if (index >= 0)
        {
            _metadata[index] = entry;
        }
        else
        {
            _metadata.Add(entry);
        }

        return this;
    }

    /// <summary>
    /// Adds a metadata entry, or replaces an existing one, taking the GGUF type from the CLR type of the value
    /// (<see cref="uint"/> is UInt32, <c>string[]</c> an array of strings; see <see cref="GgufMetadataEntry(string, object)"/>).
    /// </summary>
    /// <param name="key">The key, for example <c>llama.block_count</c>.</param>
    /// <param name="value">The value: a GGUF scalar type or a one-dimensional array of one.</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or <paramref name="value"/> has an unsupported type.</exception>
    public GgufWriter SetMetadata(string key, object value) => SetMetadata(new GgufMetadataEntry(key, value));

    /// <summary>Removes a metadata entry.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether an entry was removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool RemoveMetadata(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _metadata.RemoveAll(e => e.Key == key) > 0;
    }

    /// <summary>Adds a tensor whose data is already encoded in <paramref name="type"/>.</summary>
    /// <param name="name">The tensor name, unique, under 64 UTF-8 bytes.</param>
    /// <param name="dimensions">One to four dimensions, innermost (row length) first.</param>
    /// <param name="type">The element type of <paramref name="data"/>.</param>
    /// <param name="data">The encoded data; held by reference until the file is written.</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="dimensions"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is empty, too long or taken, the shape is invalid, or the data length does not match it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown or a dimension is negative.</exception>
    public GgufWriter AddTensor(string name, IReadOnlyList<long> dimensions, GgmlType type, ReadOnlyMemory<byte> data)
    {
        long size = ValidateTensor(name, dimensions, type);
        if (data.Length != size)
        {
            throw new ArgumentException($"Tensor '{name}' of type {type} and shape [{string.Join(", ", dimensions)}] needs {size} bytes, but {data.Length} were given.", nameof(data));
        }

        return Add(new PendingTensor(name, dimensions.ToArray(), type, size, data, null));
    }

    /// <summary>Adds a tensor from float values, converted to <paramref name="type"/> when written.</summary>
    /// <param name="name">The tensor name, unique, under 64 UTF-8 bytes.</param>
    /// <param name="dimensions">One to four dimensions, innermost (row length) first.</param>
    /// <param name="type"><see cref="GgmlType.F32"/>, <see cref="GgmlType.F16"/> or <see cref="GgmlType.Q8_0"/>.</param>
    /// <param name="values">The values, row after row; held by reference until the file is written.</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="dimensions"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is empty, too long or taken, the shape is invalid, or the value count does not match it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> cannot be written from floats, or a dimension is negative.</exception>
    public GgufWriter AddTensor(string name, IReadOnlyList<long> dimensions, GgmlType type, ReadOnlyMemory<float> values)
    {
        long size = ValidateFloatTensor(name, dimensions, type, out long elements);
        if (values.Length != elements)
        {
            throw new ArgumentException($"Tensor '{name}' of shape [{string.Join(", ", dimensions)}] has {elements} elements, but {values.Length} values were given.", nameof(values));
        }

        long rowLength = dimensions[0];
        return Add(new PendingTensor(name, dimensions.ToArray(), type, size, default,
            (first, destination) => values.Span.Slice((int)(first * rowLength), destination.Length).CopyTo(destination)));
    }

    /// <summary>
    /// Adds a tensor whose float values <paramref name="rows"/> produces a slice of rows at a time while the file is
    /// written, converted to <paramref name="type"/>; use it for tensors too large to hold in memory.
    /// </summary>
    /// <param name="name">The tensor name, unique, under 64 UTF-8 bytes.</param>
    /// <param name="dimensions">One to four dimensions, innermost (row length) first.</param>
    /// <param name="type"><see cref="GgmlType.F32"/>, <see cref="GgmlType.F16"/> or <see cref="GgmlType.Q8_0"/>.</param>
    /// <param name="rows">Called in row order, from the writing thread, until every row is produced.</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/>, <paramref name="dimensions"/> or <paramref name="rows"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is empty, too long or taken, or the shape is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> cannot be written from floats, or a dimension is negative.</exception>
    public GgufWriter AddTensor(string name, IReadOnlyList<long> dimensions, GgmlType type, GgufTensorRowSource rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        long size = ValidateFloatTensor(name, dimensions, type, out _);
        return Add(new PendingTensor(name, dimensions.ToArray(), type, size, default, rows));
    }

    /// <summary>
    /// Writes the file. It is written beside <paramref name="path"/> under a temporary name and then renamed, so
    /// readers never see a partial file and an existing file is replaced whole.
    /// </summary>
    /// <param name="path">The path of the file to create or replace.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="InvalidOperationException"><c>general.alignment</c> is not a UInt32 power of two.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string tempPath = $"{fullPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                WriteTo(stream);
            }

            File.Move(tempPath, fullPath, overwrite: true);
        }
        finally
        {
            File.Delete(tempPath);
        }
    }

    /// <summary>Writes the file to a stream, which needs no seeking.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>general.alignment</c> is not a UInt32 power of two.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        uint alignment = GetAlignment();
        long written = WriteHeader(stream, alignment);
        written += WritePadding(stream, written, alignment);
        foreach (PendingTensor tensor in _tensors)
        {
            WriteTensorData(stream, tensor);
            written += tensor.Size;
            written += WritePadding(stream, written, alignment);
        }

        stream.Flush();
    }

    private uint GetAlignment()
    {
        GgufMetadataEntry? entry = _metadata.Find(e => e.Key == GgufConstants.AlignmentKey);
        if (entry is null)
        {
            return GgufConstants.DefaultAlignment;
        }

        return entry.Value is uint alignment && alignment != 0 && (alignment & (alignment - 1)) == 0
            ? alignment
            : throw new InvalidOperationException($"'{GgufConstants.AlignmentKey}' must be a UInt32 power of two, but is {entry.Value} ({entry.Type}).");
    }

    private long WriteHeader(Stream stream, uint alignment)
    {
        using var header = new MemoryStream();
        using (var w = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(GgufConstants.Magic);
            w.Write(GgufConstants.Version);
            w.Write((long)_tensors.Count);
            w.Write((long)_metadata.Count);
            foreach (GgufMetadataEntry entry in _metadata)
            {
                WriteString(w, entry.Key);
                w.Write((uint)entry.Type);
                if (entry.Value is Array array)
                {
                    w.Write((uint)entry.ArrayElementType!.Value);
                    w.Write((ulong)array.Length);
                    foreach (object item in array)
                    {
                        WriteScalar(w, item);
                    }
                }
                else
                {
                    WriteScalar(w, entry.Value);
                }
            }

            long offset = 0;
            foreach (PendingTensor tensor in _tensors)
            {
                WriteString(w, tensor.Name);
                w.Write((uint)tensor.Dimensions.Length);
                foreach (long dimension in tensor.Dimensions)
                {
                    w.Write(dimension);
                }

                w.Write((uint)tensor.Type);
                w.Write((ulong)offset);
                offset += GgufFileParser.Pad(tensor.Size, alignment);
            }
        }

        header.Position = 0;
        header.CopyTo(stream);
        return header.Length;
    }

    private static void WriteString(BinaryWriter w, string value)
    {
        w.Write((ulong)Encoding.UTF8.GetByteCount(value));
        w.Write(Encoding.UTF8.GetBytes(value));
    }

    private static void WriteScalar(BinaryWriter w, object value)
    {
        switch (value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write(v); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            default: throw new InvalidOperationException($"Unexpected metadata value type {value.GetType()}.");
        }
    }

    private static int WritePadding(Stream stream, long written, uint alignment)
    {
        int padding = (int)(GgufFileParser.Pad(written, alignment) - written);
        Span<byte> zeros = stackalloc byte[padding];
        zeros.Clear();
        stream.Write(zeros);
        return padding;
    }

    private static void WriteTensorData(Stream stream, PendingTensor tensor)
    {
        if (tensor.Rows is null)
        {
            stream.Write(tensor.Data.Span);
            return;
        }

        long rowLength = tensor.Dimensions[0];
        long rowCount = rowLength == 0 ? 0 : tensor.Dimensions.Aggregate(1L, (p, d) => p * d) / rowLength;
        int rowsPerChunk = (int)Math.Clamp(ChunkElements / Math.Max(rowLength, 1), 1, Math.Max(rowCount, 1));
        int floatCount = checked((int)(rowsPerChunk * rowLength));
        float[] floats = ArrayPool<float>.Shared.Rent(floatCount);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(checked((int)tensor.Type.GetByteCount([floatCount])));
        try
        {
            for (long row = 0; row < rowCount; row += rowsPerChunk)
            {
                int count = (int)(Math.Min(rowsPerChunk, rowCount - row) * rowLength);
                Span<float> chunk = floats.AsSpan(0, count);
                tensor.Rows(row, chunk);
                int byteCount = GgmlQuantizer.Convert(tensor.Type, chunk, bytes);
                stream.Write(bytes, 0, byteCount);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(floats);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private long ValidateFloatTensor(string name, IReadOnlyList<long> dimensions, GgmlType type, out long elements)
    {
        if (!GgmlQuantizer.CanConvert(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type,
                $"Tensor '{name}': only F32, F16 and Q8_0 can be written from floats; pass already encoded bytes for {type}.");
        }

        long size = ValidateTensor(name, dimensions, type);
        elements = dimensions.Aggregate(1L, (p, d) => p * d);
        return size;
    }

    private long ValidateTensor(string name, IReadOnlyList<long> dimensions, GgmlType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (Encoding.UTF8.GetByteCount(name) >= GgufConstants.MaxTensorNameBytes)
        {
            throw new ArgumentException($"Tensor name '{name}' is {Encoding.UTF8.GetByteCount(name)} UTF-8 bytes; llama.cpp allows at most {GgufConstants.MaxTensorNameBytes - 1}.", nameof(name));
        }

        if (dimensions.Count is < 1 or > GgufConstants.MaxDimensions)
        {
            throw new ArgumentException($"Tensor '{name}' has {dimensions.Count} dimensions; give 1 to {GgufConstants.MaxDimensions}.", nameof(dimensions));
        }

        if (_tensorNames.Contains(name))
        {
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        }

        return type.GetByteCount(dimensions);
    }

    private GgufWriter Add(PendingTensor tensor)
    {
        _tensorNames.Add(tensor.Name);
        _tensors.Add(tensor);
        return this;
    }

    private sealed record PendingTensor(string Name, long[] Dimensions, GgmlType Type, long Size, ReadOnlyMemory<byte> Data, GgufTensorRowSource? Rows);
}
