namespace LocalLlm;

/// <summary>A LoRA adapter applied to a request with a scale (1: as trained; 0: no effect; negative: subtracted).</summary>
/// <param name="Adapter">The adapter, loaded for the model that serves the request.</param>
/// <param name="Scale">How strongly it applies; finite, from -100 to 100.</param>
public sealed record LlamaLoraApplication(LlamaLoraAdapter Adapter, float Scale = 1f)
{
    /// <summary>The largest scale magnitude accepted.</summary>
    public const float MaximumScale = 100f;
}
