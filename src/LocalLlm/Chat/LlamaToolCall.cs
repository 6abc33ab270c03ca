namespace LocalLlm;

/// <summary>A call of a tool, as the model wrote it and the reply parser read it.</summary>
/// <param name="Id">The call id: the model's own when its format has one, otherwise one made up for the call.</param>
/// <param name="Name">The tool's name.</param>
/// <param name="Arguments">The arguments as a JSON object.</param>
public sealed record LlamaToolCall(string Id, string Name, string Arguments);
