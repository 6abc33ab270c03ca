namespace LocalLlm;

/// <summary>
/// An immutable, validated sampling configuration: which of llama.cpp's samplers pick the next token, and
/// with what settings. Create one with <see cref="LlamaSampling.Create()"/> or use <see cref="Default"/> or
/// <see cref="Greedy"/>.
/// </summary>
/// <remarks>
/// <para>
/// Every setting uses llama.cpp's own meaning and "off" value (for example <see cref="TopK"/> 0 or
/// <see cref="TopP"/> 1 disables that sampler), and the defaults are those of llama.cpp's
/// <c>common_params_sampling</c>. The samplers run in llama.cpp's canonical order: logit bias, grammar,
/// penalties, DRY, top-n-sigma, top-k, typical, top-p, min-p, XTC, temperature, then one selector: greedy
/// when <see cref="Temperature"/> is 0, else Mirostat when <see cref="Mirostat"/> is set (which, as in
/// llama.cpp, replaces every sampler between grammar and temperature), else adaptive-p when
/// <see cref="AdaptivePTarget"/> is not negative, else a seeded random draw.
/// </para>
/// <para>Instances are immutable and thread-safe, and compare by value.</para>
/// </remarks>
public sealed partial record LlamaSamplingOptions
{
    /// <summary>The sequence breakers llama.cpp's DRY sampler uses by default.</summary>
    internal static readonly EquatableList<string> DefaultDrySequenceBreakers = new(["\n", ":", "\"", "*"]);

    private LlamaSamplingOptions()
    {
    }

    /// <summary>Gets llama.cpp's default sampling: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, a random seed, everything else off.</summary>
    public static LlamaSamplingOptions Default { get; } = new();

    /// <summary>Gets greedy sampling: always the most likely token (temperature 0, no truncation samplers).</summary>
    public static LlamaSamplingOptions Greedy { get; } = new() { Temperature = 0f, TopK = 0, TopP = 1f, MinP = 0f };

    /// <summary>Gets the temperature; 0 selects the most likely token (greedy), 1 leaves the logits unchanged. Default 0.8.</summary>
    public float Temperature { get; internal init; } = 0.8f;

    /// <summary>Gets the dynamic temperature range: the temperature varies by this much either side of <see cref="Temperature"/> with the entropy of the candidates; 0 (default) is off.</summary>
    public float DynamicTemperatureRange { get; internal init; }

    /// <summary>Gets the exponent mapping normalized entropy to dynamic temperature. Default 1.</summary>
    public float DynamicTemperatureExponent { get; internal init; } = 1f;

    /// <summary>Gets how many of the most likely tokens top-k keeps; 0 is off. Default 40.</summary>
    public int TopK { get; internal init; } = 40;

    /// <summary>Gets the cumulative probability top-p (nucleus) keeps; 1 is off. Default 0.95.</summary>
    public float TopP { get; internal init; } = 0.95f;

    /// <summary>Gets the probability, relative to the most likely token, below which min-p drops tokens; 0 is off. Default 0.05.</summary>
    public float MinP { get; internal init; } = 0.05f;

    /// <summary>Gets the locally-typical sampling mass; 1 (default) is off.</summary>
    public float TypicalP { get; internal init; } = 1f;

    /// <summary>Gets the number of tokens top-p, min-p, typical and XTC always keep. Default 0 (they keep at least one).</summary>
    public int MinKeep { get; internal init; }

    /// <summary>Gets top-n-sigma's n: tokens more than n standard deviations below the top logit are dropped; 0 or less (default -1) is off.</summary>
    public float TopNSigma { get; internal init; } = -1f;

    /// <summary>Gets the chance that XTC (exclude top choices) removes the likeliest tokens at a step; 0 (default) is off.</summary>
    public float XtcProbability { get; internal init; }

    /// <summary>Gets the probability above which XTC considers a token a top choice; above 0.5 XTC does nothing. Default 0.1.</summary>
    public float XtcThreshold { get; internal init; } = 0.1f;

    /// <summary>Gets the DRY (don't repeat yourself) penalty multiplier; 0 (default) is off.</summary>
    public float DryMultiplier { get; internal init; }

    /// <summary>Gets the DRY base: the penalty is multiplier × base^(repeated length − allowed length). Default 1.75.</summary>
    public float DryBase { get; internal init; } = 1.75f;

    /// <summary>Gets the longest repetition DRY lets pass unpenalized. Default 2.</summary>
    public int DryAllowedLength { get; internal init; } = 2;

    /// <summary>Gets how many recent tokens DRY scans for repetitions; 0 is off. Default 64.</summary>
    public int DryPenaltyLastN { get; internal init; } = 64;

    /// <summary>Gets the strings that end a repetition for DRY. Default <c>"\n"</c>, <c>":"</c>, <c>"\""</c>, <c>"*"</c>.</summary>
    public IReadOnlyList<string> DrySequenceBreakers { get; internal init; } = DefaultDrySequenceBreakers;

    /// <summary>Gets the repetition penalty dividing the logits of recently seen tokens; 1 (default) is off.</summary>
    public float RepetitionPenalty { get; internal init; } = 1f;

    /// <summary>Gets the frequency penalty, subtracted once per occurrence of a recent token; 0 (default) is off.</summary>
    public float FrequencyPenalty { get; internal init; }

    /// <summary>Gets the presence penalty, subtracted once from every recently seen token; 0 (default) is off.</summary>
    public float PresencePenalty { get; internal init; }

    /// <summary>Gets how many recent tokens the repetition, frequency and presence penalties consider; 0 is off. Default 64.</summary>
    public int PenaltyLastN { get; internal init; } = 64;

    /// <summary>Gets the Mirostat version selecting the token; <see cref="LlamaMirostatVersion.None"/> (default) is off.</summary>
    public LlamaMirostatVersion Mirostat { get; internal init; }

    /// <summary>Gets Mirostat's target surprise (tau). Default 5.</summary>
    public float MirostatTau { get; internal init; } = 5f;

    /// <summary>Gets Mirostat's learning rate (eta). Default 0.1.</summary>
    public float MirostatEta { get; internal init; } = 0.1f;

    /// <summary>Gets the probability adaptive-p steers the selected tokens towards; negative (default -1) is off.</summary>
    public float AdaptivePTarget { get; internal init; } = -1f;

    /// <summary>Gets adaptive-p's moving-average decay (history of about 1 / (1 − decay) tokens). Default 0.9.</summary>
    public float AdaptivePDecay { get; internal init; } = 0.9f;

    /// <summary>Gets the biases added to token logits, by token id; <see cref="float.NegativeInfinity"/> bans a token. Default none.</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; internal init; } = EquatableDictionary.Empty;

    /// <summary>Gets the GBNF grammar the output must follow, or null (default) for none.</summary>
    public string? Grammar { get; internal init; }

    /// <summary>Gets the grammar rule the output must match. Default <c>root</c>.</summary>
    public string GrammarRoot { get; internal init; } = "root";

    /// <summary>Gets the seed of the random draws (distribution, XTC, Mirostat, adaptive-p), or null (default) for a random seed.</summary>
    public uint? Seed { get; internal init; }

    /// <summary>Gets a value indicating whether the most likely token is always selected (<see cref="Temperature"/> is 0).</summary>
    public bool IsGreedy => Temperature == 0f;
}
