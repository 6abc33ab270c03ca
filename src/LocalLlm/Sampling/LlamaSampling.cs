namespace LocalLlm;

/// <summary>Entry point for building a <see cref="LlamaSamplingOptions"/>.</summary>
public static class LlamaSampling
{
    /// <summary>Starts a builder from llama.cpp's defaults (<see cref="LlamaSamplingOptions.Default"/>).</summary>
    /// <returns>A new builder.</returns>
    public static LlamaSamplingBuilder Create() => new(LlamaSamplingOptions.Default);

    /// <summary>Starts a builder from existing options, to derive a variant of them.</summary>
    /// <param name="basis">The options to start from.</param>
    /// <returns>A new builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="basis"/> is null.</exception>
    public static LlamaSamplingBuilder Create(LlamaSamplingOptions basis)
    {
        ArgumentNullException.ThrowIfNull(basis);
        return new LlamaSamplingBuilder(basis);
    }
}
