using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LocalLlm;

/// <summary>Checks <see cref="LocalLlmOptions"/> at start-up; each failure names the setting and its value.</summary>
internal sealed class LocalLlmOptionsValidator(ILoggerFactory? loggerFactory = null) : IValidateOptions<LocalLlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalLlmOptions options)
    {
        string prefix = string.IsNullOrEmpty(name) ? LocalLlmOptions.SectionName : $"{LocalLlmOptions.SectionName}[{name}]";
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            failures.Add($"{prefix}:{nameof(LocalLlmOptions.ModelPath)} is required: set it to the path of a .gguf model file.");
        }
        else if (!LlamaModelReference.TryParse(options.ModelPath, out LlamaModelReference? reference, out string? error))
        {
            failures.Add($"{prefix}:{nameof(LocalLlmOptions.ModelPath)}: {error}");
        }
        else if (!reference.IsRemote && !File.Exists(options.ModelPath))
        {
            failures.Add($"{prefix}:{nameof(LocalLlmOptions.ModelPath)} '{Path.GetFullPath(options.ModelPath)}' does not exist.");
        }

        Check(failures, prefix, nameof(LocalLlmOptions.GpuLayerCount), options.GpuLayerCount, options.GpuLayerCount >= -1, "must be -1 (all layers) or more");
        try
        {
            new LlamaModelOptions { RpcServers = options.RpcServers, TensorSplit = options.TensorSplit }.Validate();
        }
        catch (ArgumentException ex)
        {
            failures.Add($"{prefix}:{ex.Message}");
        }

        if (options.FitToMemory && options.RpcServers is { Count: > 0 })
        {
            failures.Add($"{prefix}:{nameof(LocalLlmOptions.FitToMemory)} cannot be used with {nameof(LocalLlmOptions.RpcServers)}: llama.cpp's fit does not see the workers' memory. Set {nameof(LocalLlmOptions.GpuLayerCount)} (and {nameof(LocalLlmOptions.TensorSplit)}) instead.");
        }

        if (options.ContextSize is { } contextSize)
        {
            Check(failures, prefix, nameof(LocalLlmOptions.ContextSize), contextSize, contextSize is >= 16 and <= 1 << 24, "must be between 16 and 16777216 tokens");
        }

        if (options.ThreadCount is { } threads)
        {
            Check(failures, prefix, nameof(LocalLlmOptions.ThreadCount), threads, threads is >= 1 and <= 1024, "must be between 1 and 1024");
        }

        Check(failures, prefix, nameof(LocalLlmOptions.ParallelSequences), options.ParallelSequences, options.ParallelSequences is >= 1 and <= 256, "must be between 1 and 256");
        Check(failures, prefix, nameof(LocalLlmOptions.FitMarginBytes), options.FitMarginBytes, options.FitMarginBytes >= 0, "must be 0 or more");
        Check(failures, prefix, nameof(LocalLlmOptions.FitMinimumContextSize), options.FitMinimumContextSize, options.FitMinimumContextSize is >= 16 and <= 1 << 24, "must be between 16 and 16777216 tokens");
        Check(failures, prefix, nameof(LocalLlmOptions.MaxQueuedRequests), options.MaxQueuedRequests, options.MaxQueuedRequests is >= 1 and <= 1 << 20, "must be between 1 and 1048576");
        Check(failures, prefix, nameof(LocalLlmOptions.QueueFullBehavior), options.QueueFullBehavior, Enum.IsDefined(options.QueueFullBehavior), $"is not a defined {nameof(LlamaQueueFullBehavior)}");
        Check(failures, prefix, nameof(LocalLlmOptions.DefaultMaxOutputTokens), options.DefaultMaxOutputTokens, options.DefaultMaxOutputTokens >= 1, "must be at least 1");
        Check(failures, prefix, nameof(LocalLlmOptions.HistoryPolicy), options.HistoryPolicy, Enum.IsDefined(options.HistoryPolicy), $"is not a defined {nameof(LlamaChatHistoryPolicy)}");
        if (options.ChatTemplate is { } template && !BuiltInTemplateNames(options).Contains(template, StringComparer.Ordinal))
        {
            failures.Add($"{prefix}:{nameof(LocalLlmOptions.ChatTemplate)} '{template}' is not a built-in template; use one of: {string.Join(", ", LlamaChatTemplate.BuiltInNames)}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // The names come from llama.cpp itself, so checking them loads the native runtime (once, with the app's logging).
    private IReadOnlyList<string> BuiltInTemplateNames(LocalLlmOptions options)
    {
        LlamaBackend.Initialize(options.ToBackendOptions(loggerFactory));
        return LlamaChatTemplate.BuiltInNames;
    }

    private static void Check<T>(List<string> failures, string prefix, string setting, T value, bool valid, string rule)
    {
        if (!valid)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}:{setting} {rule}, but was {value}."));
        }
    }
}
