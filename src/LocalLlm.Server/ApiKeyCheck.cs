using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace LocalLlm.Server;

/// <summary>Checks <c>Authorization: Bearer &lt;key&gt;</c> against the configured keys, in time that does not depend on how much of a key matched.</summary>
internal sealed class ApiKeyCheck
{
    private readonly byte[][] _keyHashes;

    public ApiKeyCheck(IOptions<LocalLlmServerOptions> options)
    {
        _keyHashes = [.. ReadKeys(options.Value).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];
    }

    public bool IsRequired => _keyHashes.Length > 0;

    public bool IsAuthorized(HttpRequest request)
    {
        if (_keyHashes.Length == 0)
        {
            return true;
        }

        string header = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (!header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[Bearer.Length..].Trim()));
        bool match = false;
        foreach (byte[] key in _keyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(presented, key);
        }

        return match;
    }

    public static IEnumerable<string> ReadKeys(LocalLlmServerOptions options)
    {
        IEnumerable<string> fromFile = options.ApiKeyFile is { } file
            ? File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            : [];
        return options.ApiKeys.Select(k => k.Trim()).Concat(fromFile).Distinct(StringComparer.Ordinal);
    }
}
