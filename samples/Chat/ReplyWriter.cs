using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Spectre.Console;

/// <summary>
/// Writes a streamed reply as it arrives: the model's reasoning dimmed, apart from its answer, and each tool call
/// (name and arguments) and then its result as they happen; and keeps it for the conversation.
/// </summary>
internal sealed class ReplyWriter
{
    private static readonly Style s_reasoning = new(Color.Grey, decoration: Decoration.Dim | Decoration.Italic);

    private readonly List<ChatResponseUpdate> _updates = [];
    private readonly Dictionary<string, string> _callNames = [];   // call id -> function name, to label each result

    private Part _last = Part.None;   // nothing written yet: the cursor follows the "llm> " prompt
    private bool _atLineStart;

    private enum Part
    {
        None,
        Reasoning,
        Answer,
        Tool,
    }

    /// <summary>Writes what one update holds.</summary>
    /// <param name="update">The update.</param>
    public void Write(ChatResponseUpdate update)
    {
        _updates.Add(update);
        foreach (AIContent content in update.Contents)
        {
            switch (content)
            {
                case TextReasoningContent { Text.Length: > 0 } reasoning:
                    WriteText(Part.Reasoning, new Text(reasoning.Text, s_reasoning), reasoning.Text);
                    break;
                case TextContent { Text.Length: > 0 } text:
                    WriteText(Part.Answer, new Text(text.Text), text.Text);
                    break;
                case FunctionCallContent call:
                    Begin(Part.Tool);
                    _callNames[call.CallId] = call.Name;
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[yellow]-> {call.Name}[/]({FormatArguments(call.Arguments)})");
                    _atLineStart = true;
                    break;
                case FunctionResultContent result:
                    Begin(Part.Tool);
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[yellow]<- {_callNames.GetValueOrDefault(result.CallId, "?")}:[/] [grey]{FormatResult(result)}[/]");
                    _atLineStart = true;
                    break;
            }
        }
    }

    /// <summary>Notes that the reply was stopped (Ctrl+C).</summary>
    public void Stopped()
    {
        AnsiConsole.Markup(_atLineStart ? "[grey](stopped)[/]" : " [grey](stopped)[/]");
        _atLineStart = false;
    }

    /// <summary>Ends the reply's last line.</summary>
    public void Finish()
    {
        if (!_atLineStart)
        {
            AnsiConsole.WriteLine();
        }
    }

    /// <summary>
    /// Gets the messages the reply adds to the conversation, even if it was stopped early: the answer and reasoning, and
    /// each tool call with its result. A call stopped before its result came is dropped (templates expect every call
    /// answered), and the turn always ends with an assistant message.
    /// </summary>
    /// <returns>The messages.</returns>
    public List<ChatMessage> ToMessages()
    {
        List<ChatMessage> messages = [.. _updates.ToChatResponse().Messages];
        HashSet<string> answered = [.. messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.CallId)];
        foreach (ChatMessage message in messages)
        {
            message.Contents = [.. message.Contents.Where(c => c is not FunctionCallContent call || answered.Contains(call.CallId))];
        }

        messages.RemoveAll(m => m.Contents.Count == 0);
        if (messages.Count == 0 || messages[^1].Role != ChatRole.Assistant)
        {
            messages.Add(new ChatMessage(ChatRole.Assistant, string.Empty));
        }

        return messages;
    }

    private void WriteText(Part part, Text text, string raw)
    {
        Begin(part);
        AnsiConsole.Write(text);
        _atLineStart = raw.EndsWith('\n');
    }

    // A new line between reasoning, answer and tool calls, so each reads apart.
    private void Begin(Part part)
    {
        if (part != _last && _last != Part.None && !_atLineStart)
        {
            AnsiConsole.WriteLine();
            _atLineStart = true;
        }

        _last = part;
    }

    private static string FormatArguments(IDictionary<string, object?>? arguments) =>
        arguments is null ? "" : string.Join(", ", arguments.Select(a => $"{a.Key}: {JsonSerializer.Serialize(a.Value, AIJsonUtilities.DefaultOptions)}"));

    private static string FormatResult(FunctionResultContent result) => result switch
    {
        { Exception: { } exception } => $"failed: {exception.Message}",
        { Result: JsonElement { ValueKind: JsonValueKind.String } text } => text.GetString() ?? "",
        { Result: JsonElement json } => json.GetRawText(),
        { Result: { } value } => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        _ => "(no result)",
    };
}
