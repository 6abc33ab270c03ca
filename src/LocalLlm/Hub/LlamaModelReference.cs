using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LocalLlm;

/// <summary>
/// A model as a user names it: a local path, <c>hf:owner/repo</c> (the quantization llama.cpp picks: Q4_K_M, then Q8_0,
/// then the first GGUF), <c>hf:owner/repo:Q6_K</c> (a quantization tag, any case), <c>hf:owner/repo/path/file.gguf</c>
/// (one file), each with an optional <c>@revision</c> (branch, tag or commit), or an <c>https://</c> address.
/// </summary>
public sealed partial class LlamaModelReference
{
    private LlamaModelReference(string text, LlamaModelSource source)
    {
        Text = text;
        Source = source;
    }

    /// <summary>Gets the reference as written.</summary>
    public string Text { get; }

    /// <summary>Gets where the reference points.</summary>
    public LlamaModelSource Source { get; }

    /// <summary>Gets the repository (<c>owner/repo</c>) of a hub reference, or null.</summary>
    public string? Repository { get; private init; }

    /// <summary>Gets the quantization tag of a hub reference (<c>Q6_K</c>), or null for llama.cpp's default pick.</summary>
    public string? Tag { get; private init; }

    /// <summary>Gets the file inside the repository of a hub reference that names one, or null.</summary>
    public string? FilePath { get; private init; }

    /// <summary>Gets the revision of a hub reference: a branch, a tag or a commit. Default: <c>main</c>.</summary>
    public string Revision { get; private init; } = "main";

    /// <summary>Gets the address of a URL reference, or null.</summary>
    public Uri? Url { get; private init; }

    /// <summary>Gets the path of a local reference, or null.</summary>
    public string? LocalPath { get; private init; }

    /// <summary>Gets a value indicating whether the reference needs the hub or the network (unless cached).</summary>
    public bool IsRemote => Source != LlamaModelSource.LocalFile;

    /// <summary>Reads a reference.</summary>
    /// <param name="text">The reference.</param>
    /// <returns>The parsed reference.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException">The reference is malformed; the message says how.</exception>
    public static LlamaModelReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out LlamaModelReference? reference, out string? error)
            ? reference
            : throw new ArgumentException(error, nameof(text));
    }

    /// <summary>Reads a reference, saying why it is malformed instead of throwing.</summary>
    /// <param name="text">The reference.</param>
    /// <param name="reference">The parsed reference, or null.</param>
    /// <param name="error">Why the reference is malformed, or null.</param>
    /// <returns>Whether the reference was read.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out LlamaModelReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "A model reference is empty; give a path to a .gguf file, hf:owner/repo[:quant], or an https:// address.";
            return false;
        }

        if (text.StartsWith("hf:", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseHub(text, out reference, out error);
        }

        if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? url) || url.AbsolutePath.Length <= 1)
            {
                error = $"The model reference '{text}' is not a valid address of a file.";
                return false;
            }

            reference = new LlamaModelReference(text, LlamaModelSource.Url) { Url = url };
            error = null;
            return true;
        }

        reference = new LlamaModelReference(text, LlamaModelSource.LocalFile) { LocalPath = text };
        error = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    private static bool TryParseHub(string text, out LlamaModelReference? reference, out string? error)
    {
        reference = null;
        string body = text[3..];
        string revision = "main";
        int at = body.LastIndexOf('@');
        if (at >= 0)
        {
            revision = body[(at + 1)..];
            body = body[..at];
            if (!BranchPattern().IsMatch(revision) || revision.Split('/').Any(segment => segment is "" or "." or ".."))
            {
                error = $"The model reference '{text}' names an empty or invalid revision after '@'.";
                return false;
            }
        }

        string? tag = null;
        int colon = body.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            tag = body[(colon + 1)..];
            body = body[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"The model reference '{text}' has the quantization tag '{tag}'; a tag is letters, digits and '_' (Q4_K_M, q8_0, IQ2_XS).";
                return false;
            }
        }

        string[] parts = body.Split('/');
        if (parts.Length < 2 || !RepoPartPattern().IsMatch(parts[0]) || !RepoPartPattern().IsMatch(parts[1]))
        {
            error = $"The model reference '{text}' does not name a repository: write hf:owner/repo, hf:owner/repo:Q4_K_M or hf:owner/repo/file.gguf.";
            return false;
        }

        string? file = null;
        if (parts.Length > 2)
        {
            file = string.Join('/', parts[2..]);
            if (tag is not null || !file.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || parts[2..].Any(p => p.Length == 0 || p is "." or ".."))
            {
                error = $"The model reference '{text}' names the file '{file}'; a file in a repository is a relative path ending in .gguf, with no quantization tag.";
                return false;
            }
        }

        reference = new LlamaModelReference(text, LlamaModelSource.HuggingFace) { Repository = $"{parts[0]}/{parts[1]}", Tag = tag, FilePath = file, Revision = revision };
        error = null;
        return true;
    }

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")]
    private static partial Regex RepoPartPattern();

    [GeneratedRegex("^[A-Za-z0-9_]{1,32}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[A-Za-z0-9._/-]{1,200}$")]
    private static partial Regex BranchPattern();
}
