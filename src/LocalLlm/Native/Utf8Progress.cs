namespace LocalLlm.Native;

/// <summary>
/// Where a byte stream stands in UTF-8: between characters, or inside one with the range its next byte must fall in
/// (the well-formed sequences of the Unicode standard, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
/// </summary>
internal readonly record struct Utf8Progress(int Remaining, byte Lowest, byte Highest)
{
    /// <summary>Between characters.</summary>
    public static Utf8Progress Start => default;

    /// <summary>Reads <paramref name="bytes"/> on from here; false when they are not well-formed UTF-8 in this place.</summary>
    public bool TryAdvance(ReadOnlySpan<byte> bytes, out Utf8Progress next)
    {
        int remaining = Remaining;
        byte lowest = Lowest, highest = Highest;
        foreach (byte value in bytes)
        {
            if (remaining > 0)
            {
                if (value < lowest || value > highest)
                {
                    next = this;
                    return false;
                }

                remaining--;
                (lowest, highest) = remaining == 0 ? ((byte)0, (byte)0) : ((byte)0x80, (byte)0xBF);
                continue;
            }

            (remaining, lowest, highest) = value switch
            {
                < 0x80 => (0, (byte)0, (byte)0),
                >= 0xC2 and <= 0xDF => (1, (byte)0x80, (byte)0xBF),
                0xE0 => (2, (byte)0xA0, (byte)0xBF),
                >= 0xE1 and <= 0xEC or 0xEE or 0xEF => (2, (byte)0x80, (byte)0xBF),
                0xED => (2, (byte)0x80, (byte)0x9F),
                0xF0 => (3, (byte)0x90, (byte)0xBF),
                >= 0xF1 and <= 0xF3 => (3, (byte)0x80, (byte)0xBF),
                0xF4 => (3, (byte)0x80, (byte)0x8F),
                _ => (-1, (byte)0, (byte)0),
            };
            if (remaining < 0)
            {
                next = this;
                return false;
            }
        }

        next = new Utf8Progress(remaining, lowest, highest);
        return true;
    }
}
