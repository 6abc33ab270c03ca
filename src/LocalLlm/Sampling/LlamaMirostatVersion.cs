namespace LocalLlm;

/// <summary>Which Mirostat algorithm, if any, selects the token (see <see cref="LlamaSamplingBuilder.Mirostat"/>).</summary>
public enum LlamaMirostatVersion
{
    /// <summary>Mirostat is off; the chain's other samplers and a random draw select the token.</summary>
    None = 0,

    /// <summary>Mirostat 1.0 (<c>llama_sampler_init_mirostat</c>, m = 100).</summary>
    V1 = 1,

    /// <summary>Mirostat 2.0 (<c>llama_sampler_init_mirostat_v2</c>).</summary>
    V2 = 2,
}
