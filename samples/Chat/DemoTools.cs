using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.AI;

/// <summary>
/// Two small tools the chat offers a model whose template can show it tools: the current time and a calculator. A bad
/// argument comes back to the model as a message it can read, never as an exception.
/// </summary>
internal static class DemoTools
{
    /// <summary>Gets the tools, as <see cref="ChatOptions.Tools"/> takes them.</summary>
    public static IList<AITool> All { get; } =
    [
        AIFunctionFactory.Create(GetCurrentTime, "get_current_time"),
        AIFunctionFactory.Create(Calculate, "calculate"),
    ];

    [Description("Gets the current date and time, in a given IANA time zone or in this computer's own.")]
    private static string GetCurrentTime(
        [Description("An IANA time zone such as Europe/Paris, America/New_York or UTC; omit it for this computer's time zone.")] string? timeZone = null) =>
        DescribeTime(DateTimeOffset.UtcNow, timeZone);

    [Description("Evaluates an arithmetic expression: numbers with optional decimals, + - * / and parentheses.")]
    private static string Calculate([Description("The expression, e.g. (2.5 + 4) * 3 / 2")] string expression) =>
        ArithmeticEvaluator.TryEvaluate(expression, out decimal value, out string? error)
            ? ArithmeticEvaluator.Format(value)
            : $"Error: {error}";

    /// <summary>Describes an instant in a time zone, e.g. <c>Tuesday 2025-12-02 13:24:05 (UTC+01:00, Europe/Paris)</c>.</summary>
    /// <param name="now">The instant.</param>
    /// <param name="timeZone">An IANA (or Windows) time zone id; null or blank for the local one.</param>
    /// <returns>The date and time, or a message naming the unknown zone.</returns>
    internal static string DescribeTime(DateTimeOffset now, string? timeZone)
    {
        TimeZoneInfo zone = TimeZoneInfo.Local;
        if (!string.IsNullOrWhiteSpace(timeZone) && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone.Trim(), out zone!))
        {
            return $"Unknown time zone '{timeZone}'. Use an IANA name such as Europe/Paris, America/New_York or UTC.";
        }

        DateTimeOffset local = TimeZoneInfo.ConvertTime(now, zone);
        return string.Create(CultureInfo.InvariantCulture, $"{local:dddd yyyy-MM-dd HH:mm:ss} (UTC{local:zzz}, {zone.Id})");
    }
}
