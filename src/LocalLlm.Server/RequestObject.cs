using System.Text.Json;

namespace LocalLlm.Server;

/// <summary>
/// Reads one JSON object of a request, naming the field at fault (<c>messages[2].content</c>) in every refusal, so a
/// bad request gets a 400 that says what to fix rather than a generic "invalid JSON".
/// </summary>
internal readonly struct RequestObject
{
    private readonly JsonElement _element;
    private readonly string _path;

    public RequestObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw OpenAiRequestException.BadRequest(path.Length == 0 ? null : path, $"{(path.Length == 0 ? "The request body" : $"'{path}'")} must be a JSON object, but was {Describe(element)}.");
        }

        _element = element;
        _path = path;
    }

    public JsonElement Element => _element;

    public string PathOf(string name) => _path.Length == 0 ? name : $"{_path}.{name}";

    public bool TryGet(string name, out JsonElement value) =>
        _element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public string? String(string name, bool required = false)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return required ? throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' is required.") : null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be a string, but was {Describe(value)}.");
    }

    public bool? Boolean(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be true or false, but was {Describe(value)}."),
        };
    }

    public double? Number(string name, double minimum, double maximum)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be a number, but was {Describe(value)}.");
        }

        return number >= minimum && number <= maximum
            ? number
            : throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be between {minimum} and {maximum}, but was {value.GetRawText()}.");
    }

    public long? Integer(string name, long minimum, long maximum)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
        {
            throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be an integer, but was {Describe(value)}.");
        }

        return number >= minimum && number <= maximum
            ? number
            : throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be between {minimum} and {maximum}, but was {number}.");
    }

    public RequestObject? Object(string name) => TryGet(name, out JsonElement value) ? new RequestObject(value, PathOf(name)) : null;

    public JsonElement.ArrayEnumerator Array(string name, bool required = false)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return required ? throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' is required.") : default;
        }

        return value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be an array, but was {Describe(value)}.");
    }

    /// <summary>A string, or an array of strings (as <c>stop</c> and <c>input</c> may be).</summary>
    public IReadOnlyList<string>? StringOrStrings(string name, int maximumCount)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' must be a string or an array of strings, but was {Describe(value)}.");
        }

        var strings = new List<string>();
        int index = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            strings.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw OpenAiRequestException.BadRequest($"{PathOf(name)}[{index}]", $"'{PathOf(name)}[{index}]' must be a string, but was {Describe(item)}."));
            index++;
        }

        return strings.Count <= maximumCount
            ? strings
            : throw OpenAiRequestException.BadRequest(PathOf(name), $"'{PathOf(name)}' may hold at most {maximumCount} strings, but held {strings.Count}.");
    }

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"{value.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
