namespace LocalLlm.Gguf;

/// <summary>One entry of a GGUF file's tensor table: where a tensor's data lies, not the data itself.</summary>
public sealed class GgufTensorInfo
{
    /// <summary>Creates a tensor table entry.</summary>
    /// <param name="name">The tensor name, for example <c>blk.0.attn_q.weight</c>.</param>
    /// <param name="dimensions">The dimensions, innermost (row length) first, as GGUF stores them.</param>
    /// <param name="type">The element type.</param>
    /// <param name="offset">The offset of the data from the start of the data section.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="dimensions"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The offset is negative, or the type or dimensions are invalid.</exception>
    /// <exception cref="ArgumentException">The row length is not a multiple of the type's block size.</exception>
    public GgufTensorInfo(string name, IReadOnlyList<long> dimensions, GgmlType type, long offset)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        Name = name;
        Dimensions = dimensions.ToArray();
        Type = type;
        Offset = offset;
        SizeInBytes = type.GetByteCount(Dimensions);
    }

    /// <summary>The tensor name, for example <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The dimensions, innermost (row length) first, as ggml's <c>ne</c> array.</summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>The element type.</summary>
    public GgmlType Type { get; }

    /// <summary>The offset of the tensor's data from the start of the data section (see <see cref="GgufFile.DataOffset"/>).</summary>
    public long Offset { get; }

    /// <summary>The size of the tensor's data in bytes, computed from its type and dimensions.</summary>
    public long SizeInBytes { get; }

    /// <summary>The number of elements (the product of the dimensions).</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (product, d) => product * d);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Dimensions)}]";
}
