namespace LocalLlm;

/// <summary>
/// Builds a <see cref="LlamaSamplingOptions"/> fluently. Each method validates its arguments when called and
/// replaces the previous value of its settings.
/// </summary>
/// <example>
/// <code>
/// LlamaSamplingOptions sampling = LlamaSampling.Create()
///     .TopK(40).TopP(0.95f).MinP(0.05f).Temperature(0.8f)
///     .RepetitionPenalty(1.1f, lastN: 64)
///     .Seed(42)
///     .Build();
/// </code>
/// </example>
/// <remarks>Not thread-safe; the options it builds are immutable and thread-safe.</remarks>
public sealed class LlamaSamplingBuilder
{
    private LlamaSamplingOptions _options;

    internal LlamaSamplingBuilder(LlamaSamplingOptions basis) => _options = basis;

    /// <summary>Sets the temperature that scales the logits before the random draw.</summary>
    /// <param name="temperature">0 selects the most likely token (greedy); below 1 sharpens, above 1 flattens the distribution.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is negative, NaN or infinite.</exception>
    public LlamaSamplingBuilder Temperature(float temperature) =>
        Set(_options with { Temperature = SamplingGuard.AtLeast(temperature, 0f, nameof(temperature), "Temperature") });

    /// <summary>Always selects the most likely token; the same as <c>Temperature(0)</c>.</summary>
    /// <returns>This builder.</returns>
    public LlamaSamplingBuilder Greedy() => Temperature(0f);

    /// <summary>Sets dynamic temperature (entropy-based): the temperature moves within ±<paramref name="range"/> of <see cref="Temperature"/>.</summary>
    /// <param name="range">The range; 0 turns dynamic temperature off.</param>
    /// <param name="exponent">How normalized entropy maps to temperature; 1 is linear.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="range"/> or <paramref name="exponent"/> is negative, NaN or infinite.</exception>
    public LlamaSamplingBuilder DynamicTemperature(float range, float exponent = 1f) => Set(_options with
    {
        DynamicTemperatureRange = SamplingGuard.AtLeast(range, 0f, nameof(range), "DynamicTemperature range"),
        DynamicTemperatureExponent = SamplingGuard.AtLeast(exponent, 0f, nameof(exponent), "DynamicTemperature exponent"),
    });

    /// <summary>Keeps only the <paramref name="topK"/> most likely tokens.</summary>
    /// <param name="topK">The number of tokens kept; 0 turns top-k off.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> is negative.</exception>
    public LlamaSamplingBuilder TopK(int topK) => Set(_options with { TopK = SamplingGuard.NotNegative(topK, nameof(topK), "TopK") });

    /// <summary>Keeps the smallest set of most likely tokens whose probabilities add up to <paramref name="topP"/> (nucleus sampling).</summary>
    /// <param name="topP">The cumulative probability, in (0, 1]; 1 turns top-p off.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topP"/> is not in (0, 1].</exception>
    public LlamaSamplingBuilder TopP(float topP) => Set(_options with { TopP = SamplingGuard.InRange(topP, 0f, 1f, nameof(topP), "TopP", openBelow: true) });

    /// <summary>Drops tokens whose probability is below <paramref name="minP"/> times that of the most likely token.</summary>
    /// <param name="minP">The relative probability, in [0, 1]; 0 turns min-p off.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minP"/> is not in [0, 1].</exception>
    public LlamaSamplingBuilder MinP(float minP) => Set(_options with { MinP = SamplingGuard.InRange(minP, 0f, 1f, nameof(minP), "MinP") });

    /// <summary>Applies locally typical sampling.</summary>
    /// <param name="typicalP">The probability mass kept, in (0, 1]; 1 turns typical sampling off.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="typicalP"/> is not in (0, 1].</exception>
    public LlamaSamplingBuilder TypicalP(float typicalP) =>
        Set(_options with { TypicalP = SamplingGuard.InRange(typicalP, 0f, 1f, nameof(typicalP), "TypicalP", openBelow: true) });

    /// <summary>Sets how many tokens top-p, min-p, typical and XTC always keep, whatever their thresholds.</summary>
    /// <param name="minKeep">The number of tokens; 0 lets each keep its own minimum of one.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minKeep"/> is negative.</exception>
    public LlamaSamplingBuilder MinKeep(int minKeep) => Set(_options with { MinKeep = SamplingGuard.NotNegative(minKeep, nameof(minKeep), "MinKeep") });

    /// <summary>Drops tokens whose logit is more than <paramref name="topNSigma"/> standard deviations below the highest.</summary>
    /// <param name="topNSigma">n; 0 or less turns top-n-sigma off.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topNSigma"/> is NaN or infinite.</exception>
    public LlamaSamplingBuilder TopNSigma(float topNSigma) => Set(_options with { TopNSigma = SamplingGuard.Finite(topNSigma, nameof(topNSigma), "TopNSigma") });

    /// <summary>Applies XTC (exclude top choices): with chance <paramref name="probability"/>, removes every token above <paramref name="threshold"/> except the least likely of them.</summary>
    /// <param name="probability">The chance per step, in [0, 1]; 0 turns XTC off.</param>
    /// <param name="threshold">The probability marking a top choice, in [0, 1]; above 0.5 XTC does nothing.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> or <paramref name="threshold"/> is not in [0, 1].</exception>
    public LlamaSamplingBuilder Xtc(float probability, float threshold = 0.1f) => Set(_options with
    {
        XtcProbability = SamplingGuard.InRange(probability, 0f, 1f, nameof(probability), "Xtc probability"),
        XtcThreshold = SamplingGuard.InRange(threshold, 0f, 1f, nameof(threshold), "Xtc threshold"),
    });

    /// <summary>Applies DRY (don't repeat yourself): penalizes tokens that would extend a sequence already seen.</summary>
    /// <param name="multiplier">The penalty multiplier; 0 turns DRY off.</param>
    /// <param name="exponentBase">The base: the penalty is multiplier × base^(repeated length − allowed length).</param>
    /// <param name="allowedLength">The longest repetition left unpenalized.</param>
    /// <param name="penaltyLastN">How many recent tokens are scanned; 0 turns DRY off; more than the context holds scans the whole context.</param>
    /// <param name="sequenceBreakers">Strings that end a repetition (at most 40 characters are used of each); null for llama.cpp's <c>"\n"</c>, <c>":"</c>, <c>"\""</c>, <c>"*"</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="multiplier"/> is negative or not finite, <paramref name="exponentBase"/> is below 1 or not finite,
    /// or <paramref name="allowedLength"/> or <paramref name="penaltyLastN"/> is negative.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="sequenceBreakers"/> contains a null or empty string.</exception>
    public LlamaSamplingBuilder Dry(float multiplier, float exponentBase = 1.75f, int allowedLength = 2, int penaltyLastN = 64, IEnumerable<string>? sequenceBreakers = null)
    {
        EquatableList<string> breakers = sequenceBreakers is null ? LlamaSamplingOptions.DefaultDrySequenceBreakers : new(sequenceBreakers);
        for (int i = 0; i < breakers.Count; i++)
        {
            if (string.IsNullOrEmpty(breakers[i]))
            {
                throw new ArgumentException($"DRY sequence breaker {i} is {(breakers[i] is null ? "null" : "empty")}; every breaker must be a non-empty string.", nameof(sequenceBreakers));
            }
        }

        return Set(_options with
        {
            DryMultiplier = SamplingGuard.AtLeast(multiplier, 0f, nameof(multiplier), "Dry multiplier"),
            DryBase = SamplingGuard.AtLeast(exponentBase, 1f, nameof(exponentBase), "Dry exponentBase"),
            DryAllowedLength = SamplingGuard.NotNegative(allowedLength, nameof(allowedLength), "Dry allowedLength"),
            DryPenaltyLastN = SamplingGuard.NotNegative(penaltyLastN, nameof(penaltyLastN), "Dry penaltyLastN"),
            DrySequenceBreakers = breakers,
        });
    }

    /// <summary>Divides the logits of recently seen tokens by <paramref name="repetitionPenalty"/> (multiplies negative ones).</summary>
    /// <param name="repetitionPenalty">The penalty, greater than 0; 1 turns it off, above 1 discourages repetition.</param>
    /// <param name="lastN">How many recent tokens the penalties consider (shared with the frequency and presence penalties); null keeps the current value (default 64); more than the context holds means the whole context.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="repetitionPenalty"/> is not a finite number greater than 0, or <paramref name="lastN"/> is negative.</exception>
    public LlamaSamplingBuilder RepetitionPenalty(float repetitionPenalty, int? lastN = null) => Set(_options with
    {
        RepetitionPenalty = SamplingGuard.Positive(repetitionPenalty, nameof(repetitionPenalty), "RepetitionPenalty"),
        PenaltyLastN = LastN(lastN),
    });

    /// <summary>Subtracts <paramref name="frequencyPenalty"/> from a recent token's logit once for each time it occurred.</summary>
    /// <param name="frequencyPenalty">The penalty; 0 turns it off, negative values encourage repetition.</param>
    /// <param name="lastN">How many recent tokens the penalties consider (shared); null keeps the current value (default 64); more than the context holds means the whole context.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frequencyPenalty"/> is NaN or infinite, or <paramref name="lastN"/> is negative.</exception>
    public LlamaSamplingBuilder FrequencyPenalty(float frequencyPenalty, int? lastN = null) => Set(_options with
    {
        FrequencyPenalty = SamplingGuard.Finite(frequencyPenalty, nameof(frequencyPenalty), "FrequencyPenalty"),
        PenaltyLastN = LastN(lastN),
    });

    /// <summary>Subtracts <paramref name="presencePenalty"/> once from the logit of every recently seen token.</summary>
    /// <param name="presencePenalty">The penalty; 0 turns it off, negative values encourage repetition.</param>
    /// <param name="lastN">How many recent tokens the penalties consider (shared); null keeps the current value (default 64); more than the context holds means the whole context.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="presencePenalty"/> is NaN or infinite, or <paramref name="lastN"/> is negative.</exception>
    public LlamaSamplingBuilder PresencePenalty(float presencePenalty, int? lastN = null) => Set(_options with
    {
        PresencePenalty = SamplingGuard.Finite(presencePenalty, nameof(presencePenalty), "PresencePenalty"),
        PenaltyLastN = LastN(lastN),
    });

    /// <summary>Selects the token with Mirostat, which steers towards a target surprise; as in llama.cpp it replaces the penalty, DRY and truncation samplers.</summary>
    /// <param name="version">The algorithm; <see cref="LlamaMirostatVersion.None"/> turns Mirostat off.</param>
    /// <param name="tau">The target surprise (cross-entropy), greater than 0.</param>
    /// <param name="eta">The learning rate, greater than 0.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is undefined, or <paramref name="tau"/> or <paramref name="eta"/> is not a finite number greater than 0.</exception>
    public LlamaSamplingBuilder Mirostat(LlamaMirostatVersion version, float tau = 5f, float eta = 0.1f)
    {
        if (!Enum.IsDefined(version))
        {
            throw SamplingGuard.OutOfRange(version, nameof(version), "Mirostat version", "None, V1 or V2");
        }

        return Set(_options with
        {
            Mirostat = version,
            MirostatTau = SamplingGuard.Positive(tau, nameof(tau), "Mirostat tau"),
            MirostatEta = SamplingGuard.Positive(eta, nameof(eta), "Mirostat eta"),
        });
    }

    /// <summary>Selects the token with adaptive-p, which favors tokens near a target probability over time, instead of a plain random draw.</summary>
    /// <param name="target">The target probability, in [0, 1].</param>
    /// <param name="decay">The moving-average decay, in [0, 0.99].</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is not in [0, 1] or <paramref name="decay"/> is not in [0, 0.99].</exception>
    public LlamaSamplingBuilder AdaptiveP(float target, float decay = 0.9f) => Set(_options with
    {
        AdaptivePTarget = SamplingGuard.InRange(target, 0f, 1f, nameof(target), "AdaptiveP target"),
        AdaptivePDecay = SamplingGuard.InRange(decay, 0f, 0.99f, nameof(decay), "AdaptiveP decay"),
    });

    /// <summary>Adds <paramref name="bias"/> to the logit of <paramref name="token"/>, replacing any earlier bias for it.</summary>
    /// <param name="token">The token id (checked against the vocabulary when the sampler chain is created).</param>
    /// <param name="bias">The bias; <see cref="float.NegativeInfinity"/> bans the token.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is negative, or <paramref name="bias"/> is NaN or positive infinity.</exception>
    public LlamaSamplingBuilder LogitBias(int token, float bias)
    {
        SamplingGuard.NotNegative(token, nameof(token), "LogitBias token");
        if (float.IsNaN(bias) || float.IsPositiveInfinity(bias))
        {
            throw SamplingGuard.OutOfRange(bias, nameof(bias), "LogitBias bias", "a finite number or negative infinity");
        }

        return Set(_options with { LogitBias = ((EquatableDictionary)_options.LogitBias).With(token, bias) });
    }

    /// <summary>Constrains the output to a GBNF grammar (see llama.cpp's grammars/README.md).</summary>
    /// <param name="grammar">The grammar rules; parsed when the sampler chain is created.</param>
    /// <param name="root">The rule the whole output must match.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="grammar"/> or <paramref name="root"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="grammar"/> or <paramref name="root"/> is empty or white space, or the grammar nests parentheses
    /// more than 1,000 deep, or has a repetition <c>{m,n}</c> with m above n or a bound above 100,000.
    /// </exception>
    public LlamaSamplingBuilder Grammar(string grammar, string root = "root")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(grammar);
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        GbnfGuard.ThrowIfUnsafe(grammar, nameof(grammar));
        return Set(_options with { Grammar = grammar, GrammarRoot = root });
    }

    /// <summary>Sets the seed of every random draw (distribution, XTC, Mirostat, adaptive-p).</summary>
    /// <param name="seed">The seed, for reproducible output; null for a different random seed each time a sampler chain is created.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seed"/> is <see cref="uint.MaxValue"/>, which llama.cpp reads as "random".</exception>
    public LlamaSamplingBuilder Seed(uint? seed)
    {
        if (seed == uint.MaxValue)
        {
            throw SamplingGuard.OutOfRange(seed.Value, nameof(seed), "Seed", "below 4294967295 (llama.cpp's random-seed marker; pass null for a random seed)");
        }

        return Set(_options with { Seed = seed });
    }

    /// <summary>Returns the configuration built so far; the builder can go on to build others.</summary>
    /// <returns>The immutable options.</returns>
    public LlamaSamplingOptions Build() => _options;

    private int LastN(int? lastN) => lastN is { } value ? SamplingGuard.NotNegative(value, nameof(lastN), "Penalty lastN") : _options.PenaltyLastN;

    private LlamaSamplingBuilder Set(LlamaSamplingOptions options)
    {
        _options = options;
        return this;
    }
}
