using System.Diagnostics;
using System.Globalization;
using LocalLlm;
using LocalLlm.FuzzTarget;
using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

// Child mode: one hostile input (a file, a grammar, a call), whose exit code the parent reads.
if (args is not [] && args[0] != "--fuzz")
{
    return await Probe.RunAsync(args);
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
        string tally = outcome == "refused" ? $"refused with {detail[..Math.Max(detail.IndexOf(':', StringComparison.Ordinal), 0)]}" : outcome;
        outcomes[tally] = outcomes.GetValueOrDefault(tally) + 1;
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

Console.WriteLine($"{cases} cases (seed {seed}) in {stopwatch.Elapsed.TotalSeconds:F0} s: {failures.Count} crashed, hung or threw an unexpected exception");
foreach ((string outcome, int count) in outcomes.OrderByDescending(o => o.Value).ThenBy(o => o.Key))
{
    Console.WriteLine($"  {count,6} {outcome}");
}

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
        Probe.Ran => ("ran", string.Empty),
        Probe.Refused => ("refused", lastLine),
        Probe.UnexpectedException => ("threw an unexpected exception", lastLine),
        _ => ($"crashed (exit {child.ExitCode})", lastLine),
    };
}
