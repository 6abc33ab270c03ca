using System.Buffers.Binary;
using System.Text;

namespace LocalLlm.Gguf;

/// <summary>Parses a GGUF header with the checks llama.cpp's <c>gguf_init_from_file_impl</c> applies.</summary>
internal static class GgufFileParser
{
    // Smallest possible encodings, used to reject counts that no file of this length could hold.
    private const int MinMetadataEntryBytes = 8 + 1 + 4 + 1;
    private const int MinTensorInfoBytes = 8 + 4 + 4 + 8;

    public static GgufFile Parse(GgufBinaryReader reader)
    {
        string path = reader.Path;
        if (reader.Length == 0)
        {
            throw new GgufFormatException(path, GgufFormatError.EmptyFile, "the file is empty (0 bytes). It was probably not downloaded completely; fetch it again.");
        }

        ReadMagic(reader);
        uint version = ReadVersion(reader);

        reader.Section = "the header";
        long tensorCount = ReadCount(reader, "tensor count", MinTensorInfoBytes);
        long metadataCount = ReadCount(reader, "metadata entry count", MinMetadataEntryBytes);

        var metadata = new List<GgufMetadataEntry>((int)metadataCount);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < metadataCount; i++)
        {
            GgufMetadataEntry entry = ReadMetadataEntry(reader, i);
            if (!keys.Add(entry.Key))
            {
                throw reader.Malformed($"the metadata key '{entry.Key}' appears more than once.");
            }

            metadata.Add(entry);
        }

        uint alignment = ReadAlignment(reader, metadata);

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            GgufTensorInfo tensor = ReadTensorInfo(reader, i, alignment);
            if (!names.Add(tensor.Name))
            {
                throw reader.Malformed($"the tensor name '{tensor.Name}' appears more than once in the tensor table.");
            }

            tensors.Add(tensor);
        }

        long dataOffset = tensorCount > 0 ? Pad(reader.Position, alignment) : reader.Position;
        CheckTensorData(reader, tensors, dataOffset, alignment);
        return new GgufFile(path, version, alignment, dataOffset, reader.Length, metadata, tensors);
    }

    internal static long Pad(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    private static void ReadMagic(GgufBinaryReader reader)
    {
        if (reader.Length < 4)
        {
            throw new GgufFormatException(reader.Path, GgufFormatError.NotGguf,
                $"the file is only {reader.Length} bytes long, too short to be a GGUF file.");
        }

        uint magic = reader.ReadUInt32();
        if (magic == GgufConstants.Magic)
        {
            return;
        }

        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, magic);
        string hex = Convert.ToHexString(bytes);
        string text = new(Encoding.ASCII.GetString(bytes).Select(c => char.IsControl(c) ? '.' : c).ToArray());
        string hint = text.StartsWith("vers", StringComparison.Ordinal)
            ? " It looks like a Git LFS pointer; run 'git lfs pull' to fetch the real file."
            : " Check that the path points to a .gguf model file.";
        throw new GgufFormatException(reader.Path, GgufFormatError.NotGguf,
            $"it is not a GGUF file: it starts with the bytes {hex} ('{text}') instead of 'GGUF'.{hint}");
    }

    private static uint ReadVersion(GgufBinaryReader reader)
    {
        uint version = reader.ReadUInt32();
        if (version is 2 or 3)
        {
            return version;
        }

        string reason = version switch
        {
            1 => "it is GGUF version 1, which llama.cpp no longer loads (only versions 2 and 3). Convert the model again with a current llama.cpp.",
            _ when BinaryPrimitives.ReverseEndianness(version) is 2 or 3 =>
                $"it is a big-endian GGUF file (version {BinaryPrimitives.ReverseEndianness(version)} byte-swapped reads as {version}); llama.cpp on this machine loads only little-endian files of versions 2 and 3.",
            _ => $"it is GGUF version {version}, but llama.cpp loads only versions 2 and 3. Use a file converted for this llama.cpp version.",
        };
        throw new GgufFormatException(reader.Path, GgufFormatError.UnsupportedVersion, reason);
    }

    private static long ReadCount(GgufBinaryReader reader, string what, int minBytesEach)
    {
        long count = reader.ReadInt64();
        if (count < 0 || count > reader.Length / minBytesEach)
        {
            throw reader.Malformed($"the header gives a {what} of {count}, impossible for a file of {reader.Length} bytes; the file is corrupt.");
        }

        return count;
    }

    private static GgufMetadataEntry ReadMetadataEntry(GgufBinaryReader reader, long index)
    {
        reader.Section = $"metadata entry {index}";
        string key = reader.ReadString();
        if (key.Length == 0)
        {
            throw reader.Malformed($"metadata entry {index} has an empty key.");
        }

        reader.Section = $"metadata key '{key}'";
        var type = (GgufValueType)reader.ReadUInt32();
        if (type != GgufValueType.Array)
        {
            CheckScalarType(reader, key, type);
            return new GgufMetadataEntry(key, type, ReadScalar(reader, type), null);
        }

        var elementType = (GgufValueType)reader.ReadUInt32();
        if (elementType == GgufValueType.Array)
        {
            throw reader.Malformed($"metadata key '{key}' holds an array of arrays, which llama.cpp does not load.");
        }

        CheckScalarType(reader, key, elementType);
        long start = reader.Position;
        ulong count = reader.ReadUInt64();
        ulong minBytes = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            _ => 8,
        };
        if (count > (ulong)GgufConstants.MaxArrayElements || count * minBytes > (ulong)reader.Length)
        {
            throw reader.Malformed(
                $"metadata key '{key}' has an array of {count} {elementType} elements at offset {start}, more than the {reader.Length}-byte file can hold; the file is corrupt.");
        }

        return new GgufMetadataEntry(key, GgufValueType.Array, ReadArray(reader, elementType, (int)count), elementType);
    }

    private static void CheckScalarType(GgufBinaryReader reader, string key, GgufValueType type)
    {
        if (type > GgufValueType.Float64)
        {
            throw reader.Malformed($"metadata key '{key}' has the unknown value type {(uint)type} (valid types are 0 to 12).");
        }
    }

    private static object ReadScalar(GgufBinaryReader reader, GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => reader.ReadUInt8(),
        GgufValueType.Int8 => reader.ReadInt8(),
        GgufValueType.UInt16 => reader.ReadUInt16(),
        GgufValueType.Int16 => reader.ReadInt16(),
        GgufValueType.UInt32 => reader.ReadUInt32(),
        GgufValueType.Int32 => reader.ReadInt32(),
        GgufValueType.Float32 => reader.ReadFloat32(),
        GgufValueType.Bool => reader.ReadBool(),
        GgufValueType.String => reader.ReadString(),
        GgufValueType.UInt64 => reader.ReadUInt64(),
        GgufValueType.Int64 => reader.ReadInt64(),
        GgufValueType.Float64 => reader.ReadFloat64(),
        _ => throw new InvalidOperationException($"Unexpected scalar type {type}."),
    };

    private static Array ReadArray(GgufBinaryReader reader, GgufValueType type, int count) => type switch
    {
        GgufValueType.UInt8 => Fill(new byte[count], reader.ReadUInt8),
        GgufValueType.Int8 => Fill(new sbyte[count], reader.ReadInt8),
        GgufValueType.UInt16 => Fill(new ushort[count], reader.ReadUInt16),
        GgufValueType.Int16 => Fill(new short[count], reader.ReadInt16),
        GgufValueType.UInt32 => Fill(new uint[count], reader.ReadUInt32),
        GgufValueType.Int32 => Fill(new int[count], reader.ReadInt32),
        GgufValueType.Float32 => Fill(new float[count], reader.ReadFloat32),
        GgufValueType.Bool => Fill(new bool[count], reader.ReadBool),
        GgufValueType.String => Fill(new string[count], reader.ReadString),
        GgufValueType.UInt64 => Fill(new ulong[count], reader.ReadUInt64),
        GgufValueType.Int64 => Fill(new long[count], reader.ReadInt64),
        GgufValueType.Float64 => Fill(new double[count], reader.ReadFloat64),
        _ => throw new InvalidOperationException($"Unexpected element type {type}."),
    };

    private static T[] Fill<T>(T[] array, Func<T> read)
    {
        for (int i = 0; i < array.Length; i++)
        {
            array[i] = read();
        }

        return array;
    }

    private static uint ReadAlignment(GgufBinaryReader reader, List<GgufMetadataEntry> metadata)
    {
        GgufMetadataEntry? entry = metadata.Find(e => e.Key == GgufConstants.AlignmentKey);
        if (entry is null)
        {
            return GgufConstants.DefaultAlignment;
        }

        if (entry.Value is not uint alignment)
        {
            throw reader.Malformed($"'{GgufConstants.AlignmentKey}' must be a UInt32 but is of type {entry.Type}.");
        }

        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw reader.Malformed($"'{GgufConstants.AlignmentKey}' is {alignment}, which is not a power of two.");
        }

        return alignment;
    }

    private static GgufTensorInfo ReadTensorInfo(GgufBinaryReader reader, long index, uint alignment)
    {
        reader.Section = $"tensor table entry {index}";
        string name = reader.ReadString();
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes >= GgufConstants.MaxTensorNameBytes)
        {
            throw reader.Malformed($"tensor {index} has a {nameBytes}-byte name; llama.cpp allows at most {GgufConstants.MaxTensorNameBytes - 1} bytes.");
        }

        reader.Section = $"the tensor table entry of '{name}'";
        uint dimensionCount = reader.ReadUInt32();
        if (dimensionCount > GgufConstants.MaxDimensions)
        {
            throw reader.Malformed($"tensor '{name}' has {dimensionCount} dimensions; ggml allows at most {GgufConstants.MaxDimensions}.");
        }

        var dimensions = new long[dimensionCount];
        for (int d = 0; d < dimensions.Length; d++)
        {
            dimensions[d] = reader.ReadInt64();
            if (dimensions[d] < 0)
            {
                throw reader.Malformed($"tensor '{name}' has the negative size {dimensions[d]} in dimension {d}.");
            }
        }

        uint typeId = reader.ReadUInt32();
        var type = (GgmlType)typeId;
        if (!GgmlTypeExtensions.TryGetTraits(type, out int blockSize, out _))
        {
            throw reader.Malformed($"tensor '{name}' has the unknown ggml type id {typeId}; this llama.cpp version does not know it.");
        }

        if (dimensions.Length > 0 && dimensions[0] % blockSize != 0)
        {
            throw reader.Malformed($"tensor '{name}' of type {type} has rows of {dimensions[0]} elements, not a multiple of the block size {blockSize}.");
        }

        ulong offset = reader.ReadUInt64();
        if (offset > long.MaxValue || offset % alignment != 0)
        {
            throw reader.Malformed($"tensor '{name}' has the data offset {offset}, which is not a multiple of the alignment {alignment}.");
        }

        try
        {
            return new GgufTensorInfo(name, dimensions, type, (long)offset);
        }
        catch (OverflowException ex)
        {
            throw reader.Malformed($"tensor '{name}' has dimensions [{string.Join(", ", dimensions)}], whose size in bytes does not fit in 64 bits.", ex);
        }
    }

    private static void CheckTensorData(GgufBinaryReader reader, List<GgufTensorInfo> tensors, long dataOffset, uint alignment)
    {
        long expectedOffset = 0;
        foreach (GgufTensorInfo tensor in tensors)
        {
            if (tensor.Offset != expectedOffset)
            {
                throw reader.Malformed(
                    $"tensor '{tensor.Name}' has the data offset {tensor.Offset}, but llama.cpp expects {expectedOffset} " +
                    $"(tensors stored in table order, each padded to {alignment} bytes).");
            }

            long end = dataOffset + tensor.Offset + tensor.SizeInBytes;
            if (end < 0 || end > reader.Length)
            {
                throw new GgufFormatException(reader.Path, GgufFormatError.Truncated,
                    $"the file ends early: tensor '{tensor.Name}' ({tensor.SizeInBytes} bytes) needs bytes {dataOffset + tensor.Offset} to {end} " +
                    $"of the file, but the file is only {reader.Length} bytes long ({end - reader.Length} bytes missing). " +
                    "It was probably cut short while downloading or copying; fetch it again.");
            }

            expectedOffset = checked(expectedOffset + Pad(tensor.SizeInBytes, alignment));
        }
    }
}
