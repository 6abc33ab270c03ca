using System.Globalization;
using LocalLlm;
using Spectre.Console;

/// <summary>Prints what <c>/stats</c> shows: the last reply's tokens and speed, and how full the context is.</summary>
internal static class Stats
{
    public static void Show(LlamaUsage? usage, int contextSize, int messageCount)
    {
        if (usage is null)
        {
            AnsiConsole.MarkupLine("[grey]No completed reply yet.[/]");
            return;
        }

        // The context holds the last prompt (the whole conversation) and the reply generated after it.
        int used = usage.PromptTokens + usage.GeneratedTokens;
        Table table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumns("", "");
        table.AddRow("messages", Format($"{messageCount}"));
        table.AddRow("prompt", Format($"{usage.PromptTokens} tokens ({usage.CachedPromptTokens} reused from the cache, {usage.EvaluatedPromptTokens} evaluated at {usage.PromptTokensPerSecond:F1} tokens/s)"));
        table.AddRow("reply", Format($"{usage.GeneratedTokens} tokens at {usage.GenerationTokensPerSecond:F1} tokens/s"));
        table.AddRow("context", Format($"{used} of {contextSize} tokens used ({100 * used / contextSize}%)"));
        AnsiConsole.Write(table);
    }

    private static string Format(FormattableString value) => Markup.Escape(value.ToString(CultureInfo.InvariantCulture));
}
