using Microsoft.Extensions.Options;

namespace LocalLlm.Server;

/// <summary>Checks the server's options at start-up, naming each bad setting.</summary>
internal sealed class LocalLlmServerOptionsValidator : IValidateOptions<LocalLlmServerOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalLlmServerOptions options)
    {
        var failures = new List<string>();
        if (options.ApiKeys.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add("LocalLlmServer:ApiKeys holds an empty key; remove it or give it a value.");
        }

        if (options.ApiKeyFile is { } file && !File.Exists(file))
        {
            failures.Add($"LocalLlmServer:ApiKeyFile '{file}' does not exist.");
        }
        else if (options.ApiKeyFile is not null && !ApiKeyCheck.ReadKeys(options).Any())
        {
            failures.Add($"LocalLlmServer:ApiKeyFile '{options.ApiKeyFile}' holds no keys; a key file that locks nobody out is a mistake.");
        }

        if (options.RetryAfterSeconds is < 1 or > 3600)
        {
            failures.Add($"LocalLlmServer:RetryAfterSeconds must be between 1 and 3600, but was {options.RetryAfterSeconds}.");
        }

        if (options.AllowedOrigins.Any(o => o != "*" && !Uri.TryCreate(o, UriKind.Absolute, out _)))
        {
            failures.Add($"LocalLlmServer:AllowedOrigins must hold origins such as http://localhost:3000 (or *), but held '{options.AllowedOrigins.First(o => o != "*" && !Uri.TryCreate(o, UriKind.Absolute, out _))}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
