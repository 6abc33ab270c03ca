namespace LocalLlm;

/// <summary>Whether the model may, must or must not call one of the tools offered (llama-server's <c>tool_choice</c>).</summary>
public enum LlamaToolChoice
{
    /// <summary>The model decides; the call grammar wakes only when it opens a call.</summary>
    Auto,

    /// <summary>The reply is a call: the grammar forces a well-formed one at once.</summary>
    Required,

    /// <summary>No call: the tools are shown, but the reply is text.</summary>
    None,
}
