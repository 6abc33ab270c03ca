using LocalLlm.Gguf;

namespace LocalLlm.FuzzTarget;

/// <summary>
/// Writes mutations of a working GGUF model, deterministically from a <see cref="Random"/>: hostile metadata values,
/// removed keys, changed tensor shapes and types, flipped header bytes and truncations.
/// </summary>
internal sealed class ModelMutator(string source)
{
    private readonly GgufFile _file = GgufFile.Read(source);
    private readonly byte[] _bytes = File.ReadAllBytes(source);

    /// <summary>Writes one mutation to <paramref name="path"/>; returns what was done.</summary>
    public string Write(Random random, string path)
    {
        switch (random.Next(5))
        {
            case 0:
            {
                // Flip bytes anywhere before the tensor data: header, metadata, tensor table.
                byte[] bytes = (byte[])_bytes.Clone();
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips; i++)
                {
                    bytes[random.Next((int)_file.DataOffset)] = (byte)random.Next(256);
                }

                File.WriteAllBytes(path, bytes);
                return $"{flips} header bytes flipped";
            }

            case 1:
            {
                int length = random.Next(1, _bytes.Length);
                File.WriteAllBytes(path, _bytes.AsSpan(0, length).ToArray());
                return $"truncated at {length}";
            }

            default:
                return Rewrite(random, path);
        }
    }

    private string Rewrite(Random random, string path)
    {
        var writer = new GgufWriter();
        foreach (GgufMetadataEntry entry in _file.Metadata)
        {
            writer.SetMetadata(entry);
        }

        string what;
        int tensorToChange = -1;
        GgmlType? newType = null;
        long[]? newShape = null;
        if (_file.Tensors.Count > 0 && random.Next(3) == 0)
        {
            tensorToChange = random.Next(_file.Tensors.Count);
            GgufTensorInfo tensor = _file.Tensors[tensorToChange];
            if (random.Next(2) == 0)
            {
                newType = random.Next(2) == 0 ? GgmlType.F16 : GgmlType.F32;
                what = $"tensor {tensor.Name} stored as {newType}";
            }
            else
            {
                newShape = [.. tensor.Dimensions.Reverse()];
                what = $"tensor {tensor.Name} shape reversed";
            }
        }
        else
        {
            GgufMetadataEntry entry = _file.Metadata[random.Next(_file.Metadata.Count)];
            if (random.Next(4) == 0 && entry.Key != "general.architecture")
            {
                writer.RemoveMetadata(entry.Key);
                what = $"{entry.Key} removed";
            }
            else
            {
                object value = Hostile(entry.Value, random);
                if (entry.Key == "general.alignment" && value is not uint)
                {
                    value = 32u;
                }

                try
                {
                    writer.SetMetadata(entry.Key, value);
                }
                catch (ArgumentException)
                {
                    return Rewrite(random, path);
                }

                what = $"{entry.Key} = {Describe(value)}";
            }
        }

        using (FileStream stream = File.OpenRead(source))
        {
            for (int i = 0; i < _file.Tensors.Count; i++)
            {
                GgufTensorInfo tensor = _file.Tensors[i];
                byte[] data = _bytes.AsSpan((int)(_file.DataOffset + tensor.Offset), (int)tensor.SizeInBytes).ToArray();
                if (i == tensorToChange && newType is { } type && tensor.Type is GgmlType.F32 or GgmlType.F16 && type != tensor.Type)
                {
                    float[] values = tensor.Type == GgmlType.F32
                        ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray()
                        : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(data).ToArray().Select(h => (float)h).ToArray();
                    writer.AddTensor(tensor.Name, tensor.Dimensions, type, values.AsMemory());
                }
                else
                {
                    writer.AddTensor(tensor.Name, i == tensorToChange && newShape is not null ? newShape : tensor.Dimensions, tensor.Type, data);
                }
            }
        }

        try
        {
            writer.WriteTo(path);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A mutation the writer itself refuses (e.g. an alignment that is no power of two) is not a file.
            return Rewrite(random, path);
        }

        return what;
    }

    private static object Hostile(object value, Random random) => value switch
    {
        uint => new uint[] { 0, 1, 16, 1000, uint.MaxValue, (uint)random.Next() }[random.Next(6)],
        int => new int[] { 0, -1, int.MinValue, int.MaxValue, random.Next() }[random.Next(5)],
        ulong => new ulong[] { 0, ulong.MaxValue, (ulong)random.Next() }[random.Next(3)],
        long => new long[] { 0, -1, long.MaxValue }[random.Next(3)],
        float => new float[] { 0f, -1f, float.NaN, float.PositiveInfinity, 1e30f, float.Epsilon }[random.Next(6)],
        double => new double[] { 0, -1, double.NaN, 1e300 }[random.Next(4)],
        bool b => !b,
        string => new[] { string.Empty, "llama", "bert", "gpt2", "none", "\u0000", new string('x', 10_000) }[random.Next(7)],
        string[] items when items.Length > 2 => random.Next(3) switch
        {
            0 => items[..^random.Next(1, Math.Min(items.Length, 1000))],
            1 => items.Select((s, i) => i == items.Length / 2 ? items[0] : s).ToArray(),
            _ => items.Append("extra").ToArray(),
        },
        int[] items when items.Length > 2 => random.Next(2) == 0 ? items[..^1] : items.Select(_ => random.Next(-1, 8)).ToArray(),
        float[] items when items.Length > 2 => items.Select(f => random.Next(10) == 0 ? float.NaN : f).ToArray(),
        _ => value,
    };

    private static string Describe(object value) => value switch
    {
        string s when s.Length > 20 => $"a {s.Length}-character string",
        Array array => $"an array of {array.Length}",
        _ => $"{value}",
    };
}
