using System.Globalization;

/// <summary>Reads "--name value" pairs; a missing or malformed value is an <see cref="ArgumentException"/> naming the option.</summary>
internal sealed class CommandLine(string[] args)
{
    private int _next;
    private string _current = string.Empty;

    /// <summary>Moves to the next option and returns its name, or null at the end.</summary>
    public string? NextOption() => _next < args.Length ? _current = args[_next++] : null;

    public string Text() => _next < args.Length ? args[_next++] : throw new ArgumentException($"{_current} needs a value.");

    public int Int32() => int.TryParse(Text(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
        ? value
        : throw new ArgumentException($"{_current} needs a whole number, not '{args[_next - 1]}'.");

    public uint UInt32() => uint.TryParse(Text(), NumberStyles.Integer, CultureInfo.InvariantCulture, out uint value)
        ? value
        : throw new ArgumentException($"{_current} needs a whole number from 0 to {uint.MaxValue}, not '{args[_next - 1]}'.");

    public float Single() => float.TryParse(Text(), NumberStyles.Float, CultureInfo.InvariantCulture, out float value)
        ? value
        : throw new ArgumentException($"{_current} needs a number, not '{args[_next - 1]}'.");
}
