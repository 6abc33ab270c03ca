namespace LocalLlm.Gguf;

/// <summary>
/// The type of a GGUF metadata value, with the ids the GGUF specification assigns (<c>gguf_type</c> in gguf.h).
/// </summary>
#pragma warning disable CA1720 // The members are the GGUF specification's type names, which are type names by nature.
public enum GgufValueType : uint
{
    /// <summary>An unsigned 8-bit integer, read as <see cref="byte"/>.</summary>
    UInt8 = 0,

    /// <summary>A signed 8-bit integer, read as <see cref="sbyte"/>.</summary>
    Int8 = 1,

    /// <summary>An unsigned 16-bit integer, read as <see cref="ushort"/>.</summary>
    UInt16 = 2,

    /// <summary>A signed 16-bit integer, read as <see cref="short"/>.</summary>
    Int16 = 3,

    /// <summary>An unsigned 32-bit integer, read as <see cref="uint"/>.</summary>
    UInt32 = 4,

    /// <summary>A signed 32-bit integer, read as <see cref="int"/>.</summary>
    Int32 = 5,

    /// <summary>A 32-bit IEEE 754 float, read as <see cref="float"/>.</summary>
    Float32 = 6,

    /// <summary>A boolean stored as one byte (0 or 1), read as <see cref="bool"/>.</summary>
    Bool = 7,

    /// <summary>A UTF-8 string with a 64-bit length prefix, read as <see cref="string"/>.</summary>
    String = 8,

    /// <summary>An array of values of one element type, read as a typed CLR array such as <c>string[]</c> or <c>int[]</c>.</summary>
    Array = 9,

    /// <summary>An unsigned 64-bit integer, read as <see cref="ulong"/>.</summary>
    UInt64 = 10,

    /// <summary>A signed 64-bit integer, read as <see cref="long"/>.</summary>
    Int64 = 11,

    /// <summary>A 64-bit IEEE 754 float, read as <see cref="double"/>.</summary>
    Float64 = 12,
}
#pragma warning restore CA1720
