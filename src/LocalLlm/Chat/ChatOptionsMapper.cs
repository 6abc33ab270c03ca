using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LocalLlm;

/// <summary>
/// Maps Microsoft.Extensions.AI's <see cref="ChatOptions"/> onto generation options and the sampler chain. llama-specific
/// settings travel in <see cref="ChatOptions.AdditionalProperties"/> under llama.cpp server's names.
/// </summary>
internal static class ChatOptionsMapper
{
    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> keys understood, as llama.cpp's server names them.</summary>
    public static readonly IReadOnlyList<string> AdditionalPropertyNames =
        ["min_p", "typical_p", "top_n_sigma", "repeat_penalty", "repeat_last_n", "xtc_probability", "xtc_threshold", "dry_multiplier", "mirostat", "mirostat_tau", "mirostat_eta", "grammar", "logit_bias", "chat_template_kwargs", "reasoning_budget_tokens", "logprobs", "top_logprobs", "lora", "speculation"];

    public static LlamaGenerationOptions Map(ChatOptions? options, int defaultMaxTokens)
    {
        LlamaSamplingBuilder sampling = LlamaSampling.Create();
        var generation = new LlamaGenerationOptions { MaxTokens = defaultMaxTokens, AddSpecialTokens = true, ParseSpecialTokens = true };
        if (options is null)
        {
            generation.Sampling = sampling.Build();
            return generation;
        }

        if (options.MaxOutputTokens is { } max)
        {
            generation.MaxTokens = max;
        }

        if (options.StopSequences is { Count: > 0 } stops)
        {
            generation.StopStrings = [.. stops];
        }

        if (options.Temperature is { } temperature)
        {
            sampling.Temperature(temperature);
        }

        if (options.TopP is { } topP)
        {
            sampling.TopP(topP);
        }

        if (options.TopK is { } topK)
        {
            sampling.TopK(topK);
        }

        if (options.Seed is { } seed)
        {
            if (seed is < 0 or >= uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(options), seed, $"ChatOptions.Seed must be between 0 and {uint.MaxValue - 1}, but was {seed}.");
            }

            sampling.Seed((uint)seed);
        }

        if (options.FrequencyPenalty is { } frequency)
        {
            sampling.FrequencyPenalty(frequency);
        }

        if (options.PresencePenalty is { } presence)
        {
            sampling.PresencePenalty(presence);
        }

        ApplyAdditionalProperties(options.AdditionalProperties, sampling, generation, out string? grammar);
        // A JSON response format's grammar comes from the chat template's reply format (ChatRequestMapper), not from here.
        if (grammar is not null)
        {
            sampling.Grammar(grammar);
        }

        generation.Sampling = sampling.Build();
        return generation;
    }

    private static void ApplyAdditionalProperties(AdditionalPropertiesDictionary? properties, LlamaSamplingBuilder sampling, LlamaGenerationOptions generation, out string? grammar)
    {
        grammar = null;
        if (properties is null)
        {
            return;
        }

        foreach ((string key, object? value) in properties)
        {
            switch (key)
            {
                case "min_p": sampling.MinP(Single(key, value)); break;
                case "typical_p": sampling.TypicalP(Single(key, value)); break;
                case "top_n_sigma": sampling.TopNSigma(Single(key, value)); break;
                case "repeat_penalty": sampling.RepetitionPenalty(Single(key, value)); break;
                case "repeat_last_n": sampling.RepetitionPenalty(Single("repeat_penalty", properties.GetValueOrDefault("repeat_penalty") ?? 1.0f), (int)Single(key, value)); break;
                case "xtc_probability": sampling.Xtc(Single(key, value), properties.TryGetValue("xtc_threshold", out object? t) ? Single("xtc_threshold", t) : 0.1f); break;
                case "dry_multiplier": sampling.Dry(Single(key, value)); break;
                case "mirostat":
                    sampling.Mirostat(
                        (int)Single(key, value) switch { 0 => LlamaMirostatVersion.None, 1 => LlamaMirostatVersion.V1, 2 => LlamaMirostatVersion.V2, int v => throw new ArgumentOutOfRangeException(key, v, $"mirostat must be 0, 1 or 2, but was {v}.") },
                        properties.TryGetValue("mirostat_tau", out object? tau) ? Single("mirostat_tau", tau) : 5f,
                        properties.TryGetValue("mirostat_eta", out object? eta) ? Single("mirostat_eta", eta) : 0.1f);
                    break;
                case "logit_bias": ApplyLogitBias(sampling, value); break;
                case "logprobs": generation.LogProbabilities = value is true or JsonElement { ValueKind: JsonValueKind.True }; break;
                case "top_logprobs":
                    generation.LogProbabilities = true;
                    generation.TopLogProbabilities = (int)Single(key, value) is var top and >= 0 and <= 20 ? top : throw new ArgumentOutOfRangeException(key, value, $"top_logprobs must be between 0 and 20, but was {value}.");
                    break;
                case "lora":
                    generation.Adapters = value switch
                    {
                        IEnumerable<LlamaLoraApplication> applications => [.. applications],
                        LlamaLoraApplication application => [application],
                        LlamaLoraAdapter adapter => [new LlamaLoraApplication(adapter)],
                        _ => throw new ArgumentException($"The 'lora' property must be LlamaLoraApplication values (a loaded LlamaLoraAdapter and its scale), but was {value?.GetType().Name ?? "null"}.", key),
                    };
                    break;
                case "speculation":
                    generation.Speculation = value as LlamaSpeculationOptions ?? throw new ArgumentException($"The 'speculation' property must be LlamaSpeculationOptions, but was {value?.GetType().Name ?? "null"}.", key);
                    break;
                case "grammar": grammar = value as string ?? (value is JsonElement { ValueKind: JsonValueKind.String } json ? json.GetString() : null) ?? throw new ArgumentException($"The 'grammar' property must be a GBNF string, but was {value?.GetType().Name ?? "null"}.", key); break;
                default: break; // Settings for other providers pass through untouched, as in other IChatClient implementations.
            }
        }
    }

    // OpenAI's and llama-server's shape: an object of token id to bias (llama-server also takes [[id, bias], ...]);
    // false bans a token, as in llama-server.
    private static void ApplyLogitBias(LlamaSamplingBuilder sampling, object? value)
    {
        IEnumerable<KeyValuePair<string, object?>> entries = value switch
        {
            IEnumerable<KeyValuePair<int, float>> typed => typed.Select(e => KeyValuePair.Create(e.Key.ToString(CultureInfo.InvariantCulture), (object?)e.Value)),
            IEnumerable<KeyValuePair<string, object?>> pairs => pairs,
            JsonElement { ValueKind: JsonValueKind.Object } json => json.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, (object?)p.Value)),
            JsonElement { ValueKind: JsonValueKind.Array } json => json.EnumerateArray().Select(p => p is { ValueKind: JsonValueKind.Array } && p.GetArrayLength() == 2
                ? KeyValuePair.Create(p[0].GetRawText(), (object?)p[1])
                : throw new ArgumentException($"The 'logit_bias' property's entries must be [token id, bias] pairs, but one was {p.GetRawText()}.", nameof(value))),
            _ => throw new ArgumentException($"The 'logit_bias' property must map token ids to biases, but was {value?.GetType().Name ?? "null"}.", nameof(value)),
        };

        foreach ((string token, object? bias) in entries)
        {
            if (!int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
            {
                throw new ArgumentException($"The 'logit_bias' property names token '{token}', which is not a token id.", nameof(value));
            }

            float amount = bias is false or JsonElement { ValueKind: JsonValueKind.False } ? float.NegativeInfinity : Single("logit_bias", bias);
            sampling.LogitBias(id, amount);
        }
    }

    private static float Single(string key, object? value) => value switch
    {
        float f => f,
        double d => (float)d,
        int i => i,
        long l => l,
        decimal m => (float)m,
        string s when float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float parsed) => parsed,
        JsonElement { ValueKind: JsonValueKind.Number } json => json.GetSingle(),
        _ => throw new ArgumentException($"The '{key}' property must be a number, but was {value ?? "null"}.", key),
    };
}
