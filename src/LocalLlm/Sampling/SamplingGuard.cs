using System.Globalization;

namespace LocalLlm;

/// <summary>
/// The validation behind <see cref="LlamaSamplingBuilder"/>: every failure is an
/// <see cref="ArgumentOutOfRangeException"/> whose parameter name is the setting and whose message reads
/// "<c>Setting must be rule, but was value.</c>".
/// </summary>
internal static class SamplingGuard
{
    public static float Finite(float value, string paramName, string setting)
    {
        if (!float.IsFinite(value))
        {
            throw OutOfRange(value, paramName, setting, "a finite number");
        }

        return value;
    }

    public static float AtLeast(float value, float minimum, string paramName, string setting)
    {
        if (!(value >= minimum) || !float.IsFinite(value))
        {
            throw OutOfRange(value, paramName, setting, $"a finite number of at least {Format(minimum)}");
        }

        return value;
    }

    public static float Positive(float value, string paramName, string setting)
    {
        // 1 / value must be finite too: llama.cpp divides by it (a subnormal value would give infinity).
        if (!(value > 0f) || !float.IsFinite(value) || !float.IsFinite(1f / value))
        {
            throw OutOfRange(value, paramName, setting, "a finite number greater than 0");
        }

        return value;
    }

    /// <summary>Requires <paramref name="value"/> in [minimum, maximum], or (minimum, maximum] when <paramref name="openBelow"/>.</summary>
    public static float InRange(float value, float minimum, float maximum, string paramName, string setting, bool openBelow = false)
    {
        bool above = openBelow ? value > minimum : value >= minimum;
        if (!above || !(value <= maximum))
        {
            string rule = $"in {(openBelow ? "(" : "[")}{Format(minimum)}, {Format(maximum)}]";
            throw OutOfRange(value, paramName, setting, rule);
        }

        return value;
    }

    public static int NotNegative(int value, string paramName, string setting)
    {
        if (value < 0)
        {
            throw OutOfRange(value, paramName, setting, "0 or greater");
        }

        return value;
    }

    public static ArgumentOutOfRangeException OutOfRange(object value, string paramName, string setting, string rule) =>
        new(paramName, value, $"{setting} must be {rule}, but was {Format(value)}.");

    public static string Format(object value) => value switch
    {
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
