namespace LocalLlm;

/// <summary>A model's chat template cannot be applied (missing, or not one llama.cpp knows).</summary>
public sealed class LlamaChatTemplateException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the template and how to name one explicitly.</param>
    public LlamaChatTemplateException(string message)
        : base(message)
    {
    }
}
