using System.Diagnostics;
using System.Globalization;
using LocalLlm;
using LocalLlm.FuzzTarget;
using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

// Child mode: load one file and generate a few tokens. Exit 0 when it ran, 3 when LocalLlm refused it with an
// exception (a clean refusal); anything else (a signal, a hang) is what the fuzzer looks for.
if (args is ["--run", string path])
{
    try
    {
        using LlamaModel model = await LlamaModel.LoadAsync(path);
        using var session = new LlamaSession(model, new LlamaContextOptions { ContextSize = 256, ThreadCount = 1 });
        await session.CompleteAsync("Hello, llama", new LlamaGenerationOptions { MaxTokens = 4, Sampling = LlamaSamplingOptions.Greedy });
        return 0;
    }
    catch (Exception ex) when (ex is LlamaException or GgufFormatException or ArgumentException or NotSupportedException or InvalidOperationException or IOException or KeyNotFoundException or InvalidCastException)
    {
        Console.Error.WriteLine($"{ex.GetType().Name}: {ex.Message}");
        return 3;
    }
}

int cases = int.Parse(Option("--cases", "100"), CultureInfo.InvariantCulture);
int seed = int.Parse(Option("--seed", "1"), CultureInfo.InvariantCulture);
TimeSpan limit = TimeSpan.FromSeconds(int.Parse(Option("--timeout", "30"), CultureInfo.InvariantCulture));
string source = GeneratedModels.Ensure(ModelShape.Tiny);
string directory = Directory.CreateTempSubdirectory("localllm-fuzz-").FullName;
var fuzzer = new ModelMutator(source);
var outcomes = new Dictionary<string, int>();
var failures = new List<string>();
var stopwatch = Stopwatch.StartNew();
try
{
    for (int i = 0; i < cases; i++)
    {
        string file = Path.Combine(directory, $"case-{seed}-{i}.gguf");
        string mutation = fuzzer.Write(new Random(HashCode.Combine(seed, i)), file);
        (string outcome, string detail) = RunChild(file, limit);
        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        if (outcome is not ("ran" or "refused"))
        {
            failures.Add($"case {i} ({mutation}): {outcome} {detail}");
            File.Copy(file, Path.Combine(Path.GetTempPath(), $"localllm-fuzz-failure-{seed}-{i}.gguf"), overwrite: true);
        }

        File.Delete(file);
    }
}
finally
{
    Directory.Delete(directory, recursive: true);
}

Console.WriteLine($"{cases} cases (seed {seed}) in {stopwatch.Elapsed.TotalSeconds:F0} s: {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Value} {o.Key}"))}");
failures.ForEach(Console.WriteLine);
return failures.Count == 0 ? 0 : 1;

string Option(string name, string fallback) => Array.IndexOf(args, name) is int at and >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;

(string Outcome, string Detail) RunChild(string file, TimeSpan timeout)
{
    var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
    info.ArgumentList.Add(typeof(ModelMutator).Assembly.Location);
    info.ArgumentList.Add("--run");
    info.ArgumentList.Add(file);
    using Process child = Process.Start(info)!;
    Task<string> error = child.StandardError.ReadToEndAsync();
    Task<string> output = child.StandardOutput.ReadToEndAsync();
    if (!child.WaitForExit(timeout))
    {
        child.Kill(entireProcessTree: true);
        return ("hung", $"(no exit within {timeout.TotalSeconds:F0} s)");
    }

    string lastLine = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? string.Empty;
    return child.ExitCode switch
    {
        0 => ("ran", string.Empty),
        3 => ("refused", lastLine),
        _ => ($"crashed (exit {child.ExitCode})", lastLine),
    };
}
