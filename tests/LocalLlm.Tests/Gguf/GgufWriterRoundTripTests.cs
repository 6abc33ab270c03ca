using System.Buffers.Binary;
using LocalLlm.Gguf;

namespace LocalLlm.Tests.Gguf;

#pragma warning disable CA1861 // Inline expected arrays read best in assertions.

public sealed class GgufWriterRoundTripTests
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = TestEnvironment.CreateTempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    private static readonly object[] ScalarCases =
    [
        new object[] { (byte)200, GgufValueType.UInt8 },
        new object[] { (sbyte)-100, GgufValueType.Int8 },
        new object[] { (ushort)60000, GgufValueType.UInt16 },
        new object[] { (short)-30000, GgufValueType.Int16 },
        new object[] { 4000000000u, GgufValueType.UInt32 },
        new object[] { -2000000000, GgufValueType.Int32 },
        new object[] { 1.5e-5f, GgufValueType.Float32 },
        new object[] { true, GgufValueType.Bool },
        new object[] { "héllo wörld ✓", GgufValueType.String },
        new object[] { ulong.MaxValue, GgufValueType.UInt64 },
        new object[] { long.MinValue, GgufValueType.Int64 },
        new object[] { Math.PI, GgufValueType.Float64 },
    ];

    private static readonly object[] ArrayCases =
    [
        new object[] { new byte[] { 0, 1, 255 }, GgufValueType.UInt8 },
        new object[] { new sbyte[] { -128, 0, 127 }, GgufValueType.Int8 },
        new object[] { new ushort[] { 0, 65535 }, GgufValueType.UInt16 },
        new object[] { new short[] { -32768, 32767 }, GgufValueType.Int16 },
        new object[] { new uint[] { 0, uint.MaxValue }, GgufValueType.UInt32 },
        new object[] { new int[] { -1, 0, 1, 128009 }, GgufValueType.Int32 },
        new object[] { new float[] { -1.25f, 0f, float.Epsilon }, GgufValueType.Float32 },
        new object[] { new bool[] { true, false, true }, GgufValueType.Bool },
        new object[] { new string[] { "a", string.Empty, "Ġthe", "<|eot_id|>" }, GgufValueType.String },
        new object[] { new ulong[] { 0, ulong.MaxValue }, GgufValueType.UInt64 },
        new object[] { new long[] { long.MinValue, long.MaxValue }, GgufValueType.Int64 },
        new object[] { new double[] { double.MinValue, 0.5 }, GgufValueType.Float64 },
        new object[] { Array.Empty<int>(), GgufValueType.Int32 },
    ];

    [TestCaseSource(nameof(ScalarCases))]
    public void ScalarMetadataRoundTripsWithItsType(object value, GgufValueType expectedType)
    {
        GgufFile file = WriteAndRead(new GgufWriter().SetMetadata("test.value", value));

        GgufMetadataEntry entry = file["test.value"];
        Assert.Multiple(() =>
        {
            Assert.That(entry.Type, Is.EqualTo(expectedType));
            Assert.That(entry.ArrayElementType, Is.Null);
            Assert.That(entry.Value, Is.EqualTo(value));
            Assert.That(entry.Value.GetType(), Is.EqualTo(value.GetType()));
        });
    }

    [TestCaseSource(nameof(ArrayCases))]
    public void ArrayMetadataRoundTripsAsTypedArray(Array value, GgufValueType expectedElementType)
    {
        GgufFile file = WriteAndRead(new GgufWriter().SetMetadata("test.array", value));

        GgufMetadataEntry entry = file["test.array"];
        Assert.Multiple(() =>
        {
            Assert.That(entry.Type, Is.EqualTo(GgufValueType.Array));
            Assert.That(entry.ArrayElementType, Is.EqualTo(expectedElementType));
            Assert.That(entry.Value.GetType(), Is.EqualTo(value.GetType()));
            Assert.That(entry.Value, Is.EqualTo(value));
            Assert.That(entry.ArrayLength, Is.EqualTo(value.Length));
        });
    }

    [Test]
    public void MetadataKeepsInsertionOrderAndSetReplacesInPlace()
    {
        var writer = new GgufWriter()
            .SetMetadata("general.architecture", "llama")
            .SetMetadata("general.name", "first")
            .SetMetadata("llama.block_count", 2u)
            .SetMetadata("general.name", "second");

        GgufFile file = WriteAndRead(writer);

        Assert.Multiple(() =>
        {
            Assert.That(file.Metadata.Select(e => e.Key), Is.EqualTo(new[] { "general.architecture", "general.name", "llama.block_count" }));
            Assert.That(file.GetValue<string>("general.name"), Is.EqualTo("second"));
            Assert.That(file.Architecture, Is.EqualTo("llama"));
            Assert.That(file.Version, Is.EqualTo(3u));
            Assert.That(file.Alignment, Is.EqualTo(32u));
        });
    }

    [Test]
    public void TensorTableAndDataRoundTrip()
    {
        float[] f32 = [1f, -2f, 3.5f, 0.25f, 5f, 6f];
        float[] f16 = Enumerable.Range(0, 64).Select(i => (i - 32) / 8f).ToArray();
        float[] q8 = Enumerable.Range(0, 64).Select(i => MathF.Sin(i)).ToArray();
        byte[] q40 = Enumerable.Range(0, 18 * 2).Select(i => (byte)i).ToArray();
        var writer = new GgufWriter()
            .SetMetadata("general.architecture", "test")
            .AddTensor("a.f32", [3, 2], GgmlType.F32, f32)
            .AddTensor("b.f16", [64], GgmlType.F16, f16)
            .AddTensor("c.q8_0", [32, 2], GgmlType.Q8_0, (ReadOnlyMemory<float>)q8)
            .AddTensor("d.q4_0", [64], GgmlType.Q4_0, (ReadOnlyMemory<byte>)q40);

        string path = Write(writer);
        GgufFile file = GgufFile.Read(path);
        byte[] bytes = File.ReadAllBytes(path);

        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a.f32", "b.f16", "c.q8_0", "d.q4_0" }));
        GgufTensorInfo a = file.Tensors[0], b = file.Tensors[1], c = file.Tensors[2], d = file.Tensors[3];
        Assert.Multiple(() =>
        {
            Assert.That(a.Dimensions, Is.EqualTo(new long[] { 3, 2 }));
            Assert.That(a.Type, Is.EqualTo(GgmlType.F32));
            Assert.That(a.SizeInBytes, Is.EqualTo(24));
            Assert.That(a.Offset, Is.EqualTo(0));
            Assert.That(b.Offset, Is.EqualTo(32), "each tensor starts on a 32-byte boundary");
            Assert.That(b.SizeInBytes, Is.EqualTo(128));
            Assert.That(c.SizeInBytes, Is.EqualTo(68));
            Assert.That(c.Offset, Is.EqualTo(160));
            Assert.That(d.Type, Is.EqualTo(GgmlType.Q4_0));
            Assert.That(d.Offset, Is.EqualTo(256));
            Assert.That(file.DataOffset % 32, Is.Zero);
            Assert.That(file.FileLength, Is.EqualTo(bytes.Length));
            Assert.That(ReadFloats(bytes, file, a), Is.EqualTo(f32));
            Assert.That(ReadHalves(bytes, file, b), Is.EqualTo(f16));
            Assert.That(bytes.AsSpan((int)(file.DataOffset + d.Offset), q40.Length).ToArray(), Is.EqualTo(q40));
            Assert.That(file.TryGetTensor("c.q8_0", out GgufTensorInfo? found) ? found : null, Is.SameAs(c));
        });
        byte[] expectedQ8 = new byte[68];
        GgmlQuantizer.QuantizeQ8_0(q8, expectedQ8);
        Assert.That(bytes.AsSpan((int)(file.DataOffset + c.Offset), 68).ToArray(), Is.EqualTo(expectedQ8));
    }

    [Test]
    public void Q8_0MatchesGgmlReferenceQuantization()
    {
        float[] block = new float[32];
        block[0] = 1.27f;
        block[1] = -0.635f;
        block[2] = 0.005f;
        block[3] = -1.27f;
        byte[] output = new byte[34];

        GgmlQuantizer.QuantizeQ8_0(block, output);

        float scale = (float)BinaryPrimitives.ReadHalfLittleEndian(output);
        Assert.Multiple(() =>
        {
            Assert.That(scale, Is.EqualTo((float)(Half)(1.27f / 127f)));
            Assert.That((sbyte)output[2], Is.EqualTo(127));
            Assert.That((sbyte)output[3], Is.EqualTo(-64), "-63.5 rounds away from zero");
            Assert.That((sbyte)output[4], Is.EqualTo(1), "0.5 rounds away from zero");
            Assert.That((sbyte)output[5], Is.EqualTo(-127));
            Assert.That(output.Skip(6), Is.All.Zero);
        });
    }

    [Test]
    public void RowSourceStreamsRowsInOrder()
    {
        const int rowLength = 32, rowCount = 70_000;
        var requested = new List<long>();
        var writer = new GgufWriter().AddTensor("big", [rowLength, rowCount], GgmlType.F16, (first, destination) =>
        {
            requested.Add(first);
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = first + (i / rowLength);
            }
        });

        string path = Write(writer);
        GgufFile file = GgufFile.Read(path);
        byte[] bytes = File.ReadAllBytes(path);

        GgufTensorInfo tensor = file.Tensors.Single();
        Assert.Multiple(() =>
        {
            Assert.That(requested, Has.Count.GreaterThan(1), "a large tensor is produced in slices");
            Assert.That(requested, Is.Ordered);
            Assert.That(tensor.SizeInBytes, Is.EqualTo(rowLength * rowCount * 2L));
            Assert.That(ReadHalf(bytes, file, tensor, (1000 * rowLength) + 5), Is.EqualTo(1000f));
            Assert.That(ReadHalf(bytes, file, tensor, ((rowCount - 1) * rowLength) + 31), Is.EqualTo((float)(Half)(rowCount - 1)));
        });
    }

    [Test]
    public void CustomAlignmentIsHonoured()
    {
        var writer = new GgufWriter()
            .SetMetadata("general.alignment", 64u)
            .AddTensor("a", [3], GgmlType.F32, new float[] { 1, 2, 3 })
            .AddTensor("b", [1], GgmlType.F32, new float[] { 4 });

        GgufFile file = WriteAndRead(writer);

        Assert.Multiple(() =>
        {
            Assert.That(file.Alignment, Is.EqualTo(64u));
            Assert.That(file.DataOffset % 64, Is.Zero);
            Assert.That(file.Tensors[1].Offset, Is.EqualTo(64));
        });
    }

    [Test]
    public void MetadataCopiedFromAReadFileWritesIdentically()
    {
        GgufFile vocab = GgufFile.Read(TestEnvironment.VocabularyPath("llama-bpe"));
        var writer = new GgufWriter();
        foreach (GgufMetadataEntry entry in vocab.Metadata)
        {
            writer.SetMetadata(entry);
        }

        GgufFile copy = WriteAndRead(writer);

        Assert.That(copy.Metadata.Select(e => (e.Key, e.Type, e.ArrayElementType)), Is.EqualTo(vocab.Metadata.Select(e => (e.Key, e.Type, e.ArrayElementType))));
        Assert.That(copy.GetValue<string[]>("tokenizer.ggml.tokens"), Is.EqualTo(vocab.GetValue<string[]>("tokenizer.ggml.tokens")));
    }

    [Test]
    public void InvalidTensorsAreRejectedWithTheirName()
    {
        var writer = new GgufWriter().AddTensor("t", [32], GgmlType.F32, new float[32]);

        Assert.Multiple(() =>
        {
            Assert.That(() => writer.AddTensor("t", [32], GgmlType.F32, new float[32]),
                Throws.ArgumentException.With.Message.Contains("'t' was already added"));
            Assert.That(() => writer.AddTensor("q", [30], GgmlType.Q8_0, new float[30]),
                Throws.ArgumentException.With.Message.Contains("multiple of 32"));
            Assert.That(() => writer.AddTensor("n", [4], GgmlType.F32, new float[3]),
                Throws.ArgumentException.With.Message.Contains("'n'").And.Message.Contains("3 values"));
            Assert.That(() => writer.AddTensor("k", [256], GgmlType.Q4_K, new float[256]),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("only F32, F16 and Q8_0"));
            Assert.That(() => writer.AddTensor(new string('x', 64), [1], GgmlType.F32, new float[1]),
                Throws.ArgumentException.With.Property("ParamName").EqualTo("name"));
            Assert.That(() => writer.SetMetadata("k", new object()),
                Throws.ArgumentException.With.Message.Contains("'k'"));
            Assert.That(() => writer.SetMetadata("k", GgufValueType.Bool),
                Throws.ArgumentException.With.Message.Contains("GgufValueType"));
        });
        Assert.That(writer.TensorNames, Is.EqualTo(new[] { "t" }), "rejected tensors are not added");
    }

    private string Write(GgufWriter writer)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.gguf");
        writer.WriteTo(path);
        Assert.That(Directory.GetFiles(_directory, "*.tmp"), Is.Empty, "the temporary file is renamed");
        return path;
    }

    private GgufFile WriteAndRead(GgufWriter writer) => GgufFile.Read(Write(writer));

    private static float[] ReadFloats(byte[] bytes, GgufFile file, GgufTensorInfo t) =>
        Enumerable.Range(0, (int)t.ElementCount)
            .Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(file.DataOffset + t.Offset + (i * 4))))).ToArray();

    private static float[] ReadHalves(byte[] bytes, GgufFile file, GgufTensorInfo t) =>
        Enumerable.Range(0, (int)t.ElementCount).Select(i => ReadHalf(bytes, file, t, i)).ToArray();

    private static float ReadHalf(byte[] bytes, GgufFile file, GgufTensorInfo t, long index) =>
        (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan((int)(file.DataOffset + t.Offset + (index * 2))));
}
