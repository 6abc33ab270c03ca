using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace LocalLlm.Gguf;

/// <summary>
/// Reads little-endian GGUF primitives from a file through one buffer, knows how many bytes are left, and turns
/// every early end or impossible length into a <see cref="GgufFormatException"/> naming the file.
/// </summary>
internal sealed class GgufBinaryReader : IDisposable
{
    private const int BufferSize = 1 << 16;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly FileStream _stream;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _bufferStart;
    private int _bufferEnd;
    private long _bufferFileOffset;

    public GgufBinaryReader(FileStream stream, string path)
    {
        _stream = stream;
        Path = path;
        Length = stream.Length;
    }

    /// <summary>The path as given by the caller, for messages.</summary>
    public string Path { get; }

    /// <summary>The file length in bytes.</summary>
    public long Length { get; }

    /// <summary>What is being read, for messages ("the header", "metadata key 'x'").</summary>
    public string Section { get; set; } = "the header";

    /// <summary>The offset of the next byte to read.</summary>
    public long Position => _bufferFileOffset + _bufferStart;

    /// <summary>The bytes between <see cref="Position"/> and the end of the file.</summary>
    public long Remaining => Length - Position;

    public byte ReadUInt8() => Take(1)[0];

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public float ReadFloat32() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public bool ReadBool()
    {
        byte value = Take(1)[0];
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw Malformed($"{Section} holds the boolean byte {value} at offset {Position - 1}; booleans must be 0 or 1."),
        };
    }

    /// <summary>Reads a string: a 64-bit byte count, then that many bytes of UTF-8.</summary>
    public string ReadString()
    {
        long start = Position;
        ulong length = ReadUInt64();
        if (length > (ulong)GgufConstants.MaxStringLength || length > (ulong)Length)
        {
            throw Malformed(
                $"{Section} has a string length of {length} bytes at offset {start}, but the whole file is {Length} bytes " +
                $"(and llama.cpp allows at most {GgufConstants.MaxStringLength}); the file is corrupt.");
        }

        int count = (int)length;
        if (count == 0)
        {
            return string.Empty;
        }

        try
        {
            if (count <= BufferSize)
            {
                return Utf8.GetString(Take(count));
            }

            byte[] rented = ArrayPool<byte>.Shared.Rent(count);
            try
            {
                ReadExactly(rented.AsSpan(0, count));
                return Utf8.GetString(rented, 0, count);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        catch (DecoderFallbackException ex)
        {
            throw Malformed($"{Section} has a string at offset {start} that is not valid UTF-8.", ex);
        }
    }

    public GgufFormatException Malformed(string reason, Exception? inner = null) =>
        new(Path, GgufFormatError.Malformed, reason, inner);

    public GgufFormatException Truncated(int needed) =>
        new(Path, GgufFormatError.Truncated,
            $"the file ends early: {Section} needs {needed} more bytes at offset {Position}, but the file is only {Length} bytes long. " +
            "It was probably cut short while downloading or copying; fetch it again.");

    public void Dispose() => _stream.Dispose();

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_bufferEnd - _bufferStart < count)
        {
            Fill(count);
        }

        var span = new ReadOnlySpan<byte>(_buffer, _bufferStart, count);
        _bufferStart += count;
        return span;
    }

    private void Fill(int count)
    {
        if (count > Remaining)
        {
            throw Truncated(count);
        }

        int kept = _bufferEnd - _bufferStart;
        Buffer.BlockCopy(_buffer, _bufferStart, _buffer, 0, kept);
        _bufferFileOffset += _bufferStart;
        _bufferStart = 0;
        _bufferEnd = kept;
        _stream.Position = _bufferFileOffset + kept;
        while (_bufferEnd < count)
        {
            int read = _stream.Read(_buffer, _bufferEnd, BufferSize - _bufferEnd);
            if (read == 0)
            {
                throw Truncated(count);
            }

            _bufferEnd += read;
        }
    }

    private void ReadExactly(Span<byte> destination)
    {
        if (destination.Length > Remaining)
        {
            throw Truncated(destination.Length);
        }

        int buffered = _bufferEnd - _bufferStart;
        _buffer.AsSpan(_bufferStart, buffered).CopyTo(destination);
        long next = Position + buffered;
        _stream.Position = next;
        _stream.ReadExactly(destination[buffered..]);
        _bufferFileOffset = next + destination.Length - buffered;
        _bufferStart = 0;
        _bufferEnd = 0;
    }
}
