namespace LocalLlm;

/// <summary>How one completion is generated.</summary>
public sealed class LlamaGenerationOptions
{
    /// <summary>Gets or sets the most tokens to generate. Default: 256. Null generates until the model stops or the context policy stops it.</summary>
    public int? MaxTokens { get; set; } = 256;

    /// <summary>Gets or sets strings that end the completion; the stop string itself is not returned. Default: none.</summary>
    public IList<string> StopStrings { get; set; } = [];

    /// <summary>Gets or sets how tokens are chosen. Default: <see cref="LlamaSamplingOptions.Default"/>.</summary>
    public LlamaSamplingOptions Sampling { get; set; } = LlamaSamplingOptions.Default;

    /// <summary>Gets or sets what the chat template's reply format asks of sampling (set by the chat client and session).</summary>
    internal ChatConstraints? Chat { get; set; }

    /// <summary>Gets or sets how many of the most likely alternatives to report with each token (0 to 20). Default: 0.</summary>
    public int TopLogProbabilities { get; set; }

    /// <summary>Gets or sets a value indicating whether each token's log-probability is reported. Default: false.</summary>
    public bool LogProbabilities { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a prompt longer than the context keeps only its end (after the
    /// <see cref="LlamaContextOptions.ShiftKeepTokens"/> first tokens) instead of throwing
    /// <see cref="LlamaContextOverflowException"/>. Default: false.
    /// </summary>
    public bool TruncatePrompt { get; set; }

    /// <summary>Gets or sets a value indicating whether the model's beginning-of-sequence token is added to a text prompt. Default: true.</summary>
    public bool AddSpecialTokens { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether special tokens written in a text prompt (e.g. <c>&lt;|eot_id|&gt;</c>) are recognised. Default: true.</summary>
    public bool ParseSpecialTokens { get; set; } = true;

    /// <summary>
    /// Gets or sets the LoRA adapters this request applies, each with its scale. Requests with different adapters (or
    /// none) share a session's or scheduler's context: a step decodes only requests with the same adapters, taking
    /// turns. Default: none.
    /// </summary>
    public IList<LlamaLoraApplication> Adapters { get; set; } = [];

    /// <summary>
    /// Gets or sets speculative decoding by prompt lookup for this request: the same tokens as without it, in fewer
    /// decodes where the reply repeats its context. Null: off. Default: null.
    /// </summary>
    public LlamaSpeculationOptions? Speculation { get; set; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the setting and value.</exception>
    /// <exception cref="ArgumentNullException">A required value is null.</exception>
    /// <exception cref="ArgumentException">A stop string is null or empty.</exception>
    public void Validate()
    {
        if (MaxTokens is { } max && max < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), max, $"{nameof(MaxTokens)} must be at least 1 (or null for no limit), but was {max}.");
        }

        if (TopLogProbabilities is < 0 or > 20)
        {
            throw new ArgumentOutOfRangeException(nameof(TopLogProbabilities), TopLogProbabilities, $"{nameof(TopLogProbabilities)} must be between 0 and 20, but was {TopLogProbabilities}.");
        }

        ArgumentNullException.ThrowIfNull(StopStrings, nameof(StopStrings));
        if (StopStrings.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"{nameof(StopStrings)} holds a null or empty string; every stop string needs at least one character.", nameof(StopStrings));
        }

        ArgumentNullException.ThrowIfNull(Sampling, nameof(Sampling));
        Speculation?.Validate();
        ArgumentNullException.ThrowIfNull(Adapters, nameof(Adapters));
        for (int i = 0; i < Adapters.Count; i++)
        {
            LlamaLoraApplication? application = Adapters[i] ?? throw new ArgumentNullException(nameof(Adapters), $"{nameof(Adapters)}[{i}] is null.");
            ArgumentNullException.ThrowIfNull(application.Adapter, $"{nameof(Adapters)}[{i}].Adapter");
            ObjectDisposedException.ThrowIf(application.Adapter.IsDisposed, application.Adapter);
            if (!float.IsFinite(application.Scale) || Math.Abs(application.Scale) > LlamaLoraApplication.MaximumScale)
            {
                throw new ArgumentOutOfRangeException(nameof(Adapters), application.Scale, $"{nameof(Adapters)}[{i}].Scale must be a finite number from -{LlamaLoraApplication.MaximumScale} to {LlamaLoraApplication.MaximumScale}, but was {application.Scale}.");
            }

            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(Adapters[j].Adapter, application.Adapter))
                {
                    throw new ArgumentException($"{nameof(Adapters)} applies the adapter '{application.Adapter.Path}' twice ([{j}] and [{i}]); give it once with the summed scale.", nameof(Adapters));
                }
            }
        }
    }
}
