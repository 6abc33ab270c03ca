using System.Buffers.Binary;
using System.Text;
using LocalLlm.Gguf;

namespace LocalLlm.Tests.Gguf;

/// <summary>Every kind of bad input throws a specific, explained error naming the file.</summary>
public sealed class GgufFormatErrorTests
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = TestEnvironment.CreateTempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void MissingFileThrowsFileNotFoundNamingThePath()
    {
        string path = Path.Combine(_directory, "missing.gguf");

        var ex = Assert.Throws<FileNotFoundException>(() => GgufFile.Read(path));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.FileName, Is.EqualTo(path));
            Assert.That(ex.Message, Does.Contain(path));
        });
    }

    [Test]
    public void NullOrEmptyPathIsAnArgumentError()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => GgufFile.Read(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("path"));
            Assert.That(() => GgufFile.Read(string.Empty), Throws.ArgumentException.With.Property("ParamName").EqualTo("path"));
        });
    }

    [Test]
    public void DirectoryIsNotAFile()
    {
        GgufFormatException ex = ReadFails(_directory, GgufFormatError.NotAFile);

        Assert.That(ex.Message, Does.Contain("is a directory"));
    }

    [Test]
    public void EmptyFile()
    {
        GgufFormatException ex = ReadFails(WriteBytes([]), GgufFormatError.EmptyFile);

        Assert.That(ex.Message, Does.Contain("empty"));
    }

    [Test]
    public void TextFileIsNotGguf()
    {
        GgufFormatException ex = ReadFails(WriteBytes(Encoding.ASCII.GetBytes("{\"model\": \"llama\"}")), GgufFormatError.NotGguf);

        Assert.That(ex.Message, Does.Contain("not a GGUF file").And.Contain("'{\"mo'"));
    }

    [Test]
    public void GitLfsPointerIsNotGgufWithAHint()
    {
        GgufFormatException ex = ReadFails(WriteBytes(Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\n")), GgufFormatError.NotGguf);

        Assert.That(ex.Message, Does.Contain("git lfs pull"));
    }

    [Test]
    public void TwoByteFileIsNotGguf()
    {
        GgufFormatException ex = ReadFails(WriteBytes([0x47, 0x47]), GgufFormatError.NotGguf);

        Assert.That(ex.Message, Does.Contain("only 2 bytes"));
    }

    [TestCase(1u, "version 1")]
    [TestCase(99u, "version 99")]
    [TestCase(0x03000000u, "big-endian")]
    public void UnsupportedVersionNamesTheVersion(uint version, string expected)
    {
        GgufFormatException ex = ReadFails(WriteBytes(Header(version, 0, 0)), GgufFormatError.UnsupportedVersion);

        Assert.That(ex.Message, Does.Contain(expected).And.Contain("2 and 3"));
    }

    [Test]
    public void HeaderCutShortIsTruncated()
    {
        GgufFormatException ex = ReadFails(WriteBytes(Header(3, 0, 0)[..12]), GgufFormatError.Truncated);

        Assert.That(ex.Message, Does.Contain("ends early").And.Contain("the header").And.Contain("12 bytes long"));
    }

    [Test]
    public void MetadataCutShortIsTruncatedNamingTheKey()
    {
        byte[] full = Serialize(new GgufWriter().SetMetadata("general.name", "a fairly long model name"));

        int cut = full.AsSpan().IndexOf("fairly"u8) + 3;

        GgufFormatException ex = ReadFails(WriteBytes(full[..cut]), GgufFormatError.Truncated);

        Assert.That(ex.Message, Does.Contain("metadata key 'general.name'"));
    }

    [Test]
    public void TensorDataCutShortIsTruncatedNamingTheTensorAndByteCounts()
    {
        byte[] full = Serialize(new GgufWriter()
            .AddTensor("first", [8], GgmlType.F32, new float[8])
            .AddTensor("second.weight", [64], GgmlType.F32, new float[64]));
        byte[] cut = full[..(full.Length - 100)];

        GgufFormatException ex = ReadFails(WriteBytes(cut), GgufFormatError.Truncated);

        Assert.That(ex.Message, Does.Contain("tensor 'second.weight' (256 bytes)")
            .And.Contain($"only {cut.Length} bytes long")
            .And.Contain("100 bytes missing"));
    }

    [Test]
    public void AbsurdStringLengthIsMalformedWithoutAllocating()
    {
        byte[] bytes = [.. Header(3, 0, 1), .. Le64(0x7FFF_FFFF_FFFF_FFFF), .. "key"u8];

        GgufFormatException ex = ReadFails(WriteBytes(bytes), GgufFormatError.Malformed);

        Assert.That(ex.Message, Does.Contain("string length of 9223372036854775807 bytes").And.Contain("metadata entry 0"));
    }

    [Test]
    public void AbsurdArrayLengthIsMalformed()
    {
        byte[] bytes = [.. Header(3, 0, 1), .. Le64(3), .. "arr"u8, .. Le32(9), .. Le32(8), .. Le64(1_000_000_000)];

        GgufFormatException ex = ReadFails(WriteBytes(bytes), GgufFormatError.Malformed);

        Assert.That(ex.Message, Does.Contain("'arr'").And.Contain("array of 1000000000 String elements"));
    }

    [Test]
    public void AbsurdTensorCountIsMalformed()
    {
        GgufFormatException ex = ReadFails(WriteBytes(Header(3, long.MaxValue, 0)), GgufFormatError.Malformed);

        Assert.That(ex.Message, Does.Contain("tensor count of 9223372036854775807"));
    }

    [Test]
    public void UnknownValueTypeIsMalformed()
    {
        byte[] bytes = [.. Header(3, 0, 1), .. Le64(3), .. "key"u8, .. Le32(13), .. Le32(0)];

        GgufFormatException ex = ReadFails(WriteBytes(bytes), GgufFormatError.Malformed);

        Assert.That(ex.Message, Does.Contain("'key'").And.Contain("unknown value type 13"));
    }

    [Test]
    public void UnknownGgmlTypeIsMalformed()
    {
        byte[] bytes = [.. Header(3, 1, 0), .. Le64(1), .. "t"u8, .. Le32(1), .. Le64(32), .. Le32(31), .. Le64(0)];

        GgufFormatException ex = ReadFails(WriteBytes(bytes), GgufFormatError.Malformed);

        Assert.That(ex.Message, Does.Contain("tensor 't'").And.Contain("unknown ggml type id 31"));
    }

    [Test]
    public void AlignmentThatIsNotAPowerOfTwoIsMalformed()
    {
        byte[] bytes = [.. Header(3, 0, 1), .. Le64(17), .. "general.alignment"u8, .. Le32(4), .. Le32(48)];

        GgufFormatException ex = ReadFails(WriteBytes(bytes), GgufFormatError.Malformed);

        Assert.That(ex.Message, Does.Contain("48").And.Contain("not a power of two"));
    }

    [Test]
    public void ExceptionIsALlamaException()
    {
        Assert.That(() => GgufFile.Read(WriteBytes([])), Throws.InstanceOf<LlamaException>());
    }

    private static GgufFormatException ReadFails(string path, GgufFormatError error)
    {
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Read(path));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Error, Is.EqualTo(error), ex.Message);
            Assert.That(ex.FilePath, Is.EqualTo(path));
            Assert.That(ex.Message, Does.StartWith($"Cannot read GGUF file '{path}': "));
        });
        return ex!;
    }

    private string WriteBytes(byte[] bytes)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Serialize(GgufWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    private static byte[] Header(uint version, long tensors, long metadata) =>
        [.. "GGUF"u8, .. Le32(version), .. Le64(tensors), .. Le64(metadata)];

    private static byte[] Le32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Le64(long value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }
}
