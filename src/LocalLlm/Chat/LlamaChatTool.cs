using System.Text.Json;

namespace LocalLlm;

/// <summary>A tool the model may call: its name, what it does, and the JSON schema of its arguments.</summary>
/// <param name="Name">The name the model calls it by.</param>
/// <param name="Description">What the tool does, shown to the model.</param>
/// <param name="ParametersSchema">The JSON schema of the arguments object; null for a tool without arguments.</param>
public sealed record LlamaChatTool(string Name, string? Description = null, JsonElement? ParametersSchema = null);
