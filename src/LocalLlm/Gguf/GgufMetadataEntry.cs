using System.Globalization;

namespace LocalLlm.Gguf;

/// <summary>One key-value pair of a GGUF file's metadata.</summary>
/// <remarks>
/// Scalars are held as the matching CLR type (<see cref="GgufValueType.UInt32"/> as <see cref="uint"/>,
/// <see cref="GgufValueType.String"/> as <see cref="string"/>, ...); arrays as a typed CLR array of that
/// element type (<c>string[]</c>, <c>int[]</c>, <c>float[]</c>, ...). Arrays of arrays are not supported,
/// as llama.cpp does not load them. Do not modify an array obtained from <see cref="Value"/>.
/// </remarks>
public sealed class GgufMetadataEntry
{
    /// <summary>Creates an entry, taking its GGUF type from the CLR type of <paramref name="value"/>.</summary>
    /// <param name="key">The key, for example <c>general.architecture</c>.</param>
    /// <param name="value">
    /// A <see cref="byte"/>, <see cref="sbyte"/>, <see cref="ushort"/>, <see cref="short"/>, <see cref="uint"/>,
    /// <see cref="int"/>, <see cref="float"/>, <see cref="bool"/>, <see cref="string"/>, <see cref="ulong"/>,
    /// <see cref="long"/> or <see cref="double"/>, or a one-dimensional array of one of them. Arrays are copied.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null, or a string array holds null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty, or <paramref name="value"/> has an unsupported type.</exception>
    public GgufMetadataEntry(string key, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (value is Array array)
        {
            Type elementClrType = array.GetType().GetElementType()!;
            if (array.Rank != 1 || !TryGetValueType(elementClrType, out GgufValueType elementType))
            {
                throw new ArgumentException(
                    $"Metadata '{key}' has a value of type {value.GetType()}, which GGUF cannot hold; use a one-dimensional array of a GGUF scalar type.",
                    nameof(value));
            }

            if (array is string?[] strings && Array.IndexOf(strings, null) is int nullIndex and >= 0)
            {
                throw new ArgumentNullException(nameof(value), $"Metadata '{key}' has a null string at index {nullIndex}.");
            }

            Type = GgufValueType.Array;
            ArrayElementType = elementType;
            Value = array.Clone();
        }
        else if (TryGetValueType(value.GetType(), out GgufValueType type))
        {
            Type = type;
            Value = value;
        }
        else
        {
            throw new ArgumentException($"Metadata '{key}' has a value of type {value.GetType()}, which GGUF cannot hold.", nameof(value));
        }

        Key = key;
    }

    /// <summary>Creates an entry from values the reader has already checked; arrays are not copied.</summary>
    internal GgufMetadataEntry(string key, GgufValueType type, object value, GgufValueType? arrayElementType)
    {
        Key = key;
        Type = type;
        Value = value;
        ArrayElementType = arrayElementType;
    }

    /// <summary>The key, for example <c>general.architecture</c>.</summary>
    public string Key { get; }

    /// <summary>The value type; <see cref="GgufValueType.Array"/> for arrays (see <see cref="ArrayElementType"/>).</summary>
    public GgufValueType Type { get; }

    /// <summary>The element type when <see cref="Type"/> is <see cref="GgufValueType.Array"/>; otherwise null.</summary>
    public GgufValueType? ArrayElementType { get; }

    /// <summary>The value: a CLR scalar, a string, or a typed array (see the remarks on <see cref="GgufMetadataEntry"/>).</summary>
    public object Value { get; }

    /// <summary>The number of elements when the value is an array; otherwise null.</summary>
    public int? ArrayLength => Value is Array array ? array.Length : null;

    /// <summary>Returns the value as <typeparamref name="T"/>, which must be its exact CLR type.</summary>
    /// <typeparam name="T">The CLR type of the value, for example <see cref="uint"/> or <c>string[]</c>.</typeparam>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is of another type; the message names the key and both types.</exception>
    public T GetValue<T>() =>
        Value is T typed
            ? typed
            : throw new InvalidCastException(
                $"Metadata '{Key}' is of GGUF type {DescribeType()} ({Value.GetType().Name}), not {typeof(T).Name}.");

    /// <inheritdoc/>
    public override string ToString()
    {
        string shown = Value switch
        {
            string s => $"\"{(s.Length > 60 ? s[..60] + "..." : s)}\"",
            Array a => $"[{a.Length} items]",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => Value.ToString() ?? string.Empty,
        };
        return $"{Key} ({DescribeType()}) = {shown}";
    }

    private string DescribeType() => Type == GgufValueType.Array ? $"Array of {ArrayElementType}" : Type.ToString();

    internal static bool TryGetValueType(Type clrType, out GgufValueType type)
    {
        if (clrType.IsEnum)
        {
            type = default;
            return false;
        }

        switch (System.Type.GetTypeCode(clrType))
        {
            case TypeCode.Byte: type = GgufValueType.UInt8; return true;
            case TypeCode.SByte: type = GgufValueType.Int8; return true;
            case TypeCode.UInt16: type = GgufValueType.UInt16; return true;
            case TypeCode.Int16: type = GgufValueType.Int16; return true;
            case TypeCode.UInt32: type = GgufValueType.UInt32; return true;
            case TypeCode.Int32: type = GgufValueType.Int32; return true;
            case TypeCode.Single: type = GgufValueType.Float32; return true;
            case TypeCode.Boolean: type = GgufValueType.Bool; return true;
            case TypeCode.String: type = GgufValueType.String; return true;
            case TypeCode.UInt64: type = GgufValueType.UInt64; return true;
            case TypeCode.Int64: type = GgufValueType.Int64; return true;
            case TypeCode.Double: type = GgufValueType.Float64; return true;
            default: type = default; return false;
        }
    }
}
