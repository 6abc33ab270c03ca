using System.Globalization;
using System.Text.RegularExpressions;

namespace LocalLlm;

/// <summary>
/// Picks a repository's model file as llama.cpp does (common/download.cpp): the requested quantization tag (any case,
/// followed by <c>.</c> or <c>-</c>), else Q4_K_M, then Q8_0, then the first GGUF; never a projector, imatrix or draft
/// head; the first part of a split model, with its other parts; and a projector beside it.
/// </summary>
internal static partial class GgufFilePicker
{
    private static readonly string[] DefaultTags = ["Q4_K_M", "Q8_0"];
    private static readonly string[] NotModels = ["mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-"];

    public static HubFile? PickModel(IReadOnlyList<HubFile> files, string? tag)
    {
        foreach (string candidate in tag is null ? DefaultTags : [tag])
        {
            var pattern = new Regex(Regex.Escape(candidate) + "[.-]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            if (files.FirstOrDefault(f => IsModel(f.Path) && IsFirstPart(f.Path) && pattern.IsMatch(f.Path)) is { } match)
            {
                return match;
            }
        }

        return tag is null ? files.FirstOrDefault(f => IsModel(f.Path) && IsFirstPart(f.Path)) : null;
    }

    /// <summary>The model's files in order: itself, or every part of its split.</summary>
    public static IReadOnlyList<HubFile> Parts(IReadOnlyList<HubFile> files, HubFile first)
    {
        if (Split(first.Path) is not { } split)
        {
            return [first];
        }

        var parts = new List<HubFile>();
        for (int index = 1; index <= split.Count; index++)
        {
            string path = $"{split.Prefix}-{index.ToString("D5", CultureInfo.InvariantCulture)}-of-{split.Count.ToString("D5", CultureInfo.InvariantCulture)}.gguf";
            parts.Add(files.FirstOrDefault(f => f.Path == path)
                ?? throw new InvalidOperationException($"the split model '{first.Path}' lacks its part '{path}'"));
        }

        return parts;
    }

    /// <summary>A projector (<c>mmproj</c>) in the model's folder, preferring the one whose precision is closest.</summary>
    public static HubFile? PickProjector(IReadOnlyList<HubFile> files, HubFile model)
    {
        string folder = FolderOf(model.Path);
        int bits = QuantBits(model.Path);
        return files.Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && f.Path.Contains("mmproj", StringComparison.OrdinalIgnoreCase) && FolderOf(f.Path) == folder)
            .OrderBy(f => Math.Abs(QuantBits(f.Path) - bits))
            .FirstOrDefault();
    }

    public static IEnumerable<string> Models(IReadOnlyList<HubFile> files) => files.Where(f => IsModel(f.Path)).Select(f => f.Path);

    private static bool IsModel(string path)
    {
        string name = path[(path.LastIndexOf('/') + 1)..];
        return name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && !NotModels.Any(n => name.Contains(n, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsFirstPart(string path) => Split(path) is not { } split || split.Index == 1;

    private static (string Prefix, int Index, int Count)? Split(string path)
    {
        Match match = SplitPattern().Match(path);
        return match.Success
            ? (match.Groups[1].Value, int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture))
            : null;
    }

    private static string FolderOf(string path) => path.LastIndexOf('/') is var slash and >= 0 ? path[..slash] : string.Empty;

    private static int QuantBits(string path)
    {
        Match match = BitsPattern().Match(path);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 16;
    }

    [GeneratedRegex(@"^(.*)-(\d{5})-of-(\d{5})\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitPattern();

    [GeneratedRegex(@"(?:[QF]|BF|IQ)(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex BitsPattern();
}
