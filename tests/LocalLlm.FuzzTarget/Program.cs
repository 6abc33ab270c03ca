using System.Diagnostics;
using System.Globalization;
using LocalLlm;
using LocalLlm.FuzzTarget;
using LocalLlm.Gguf;
using LocalLlm.ModelGenerator;

// The Vulkan backend ships beside the CPU one here (for the --gpu-greedy probe); every other probe and the fuzzer run
// on the CPU, whatever GPU the machine has.
LlamaBackend.Initialize(new LlamaBackendOptions { EnableGpu = args is ["--gpu-greedy", ..] });

// Child mode: one hostile input (a file, a grammar, a call), whose exit code the parent reads.
if (args is not [] && args[0] != "--fuzz")
{
    return await Probe.RunAsync(args);
}

int cases = int.Parse(Option("--cases", "100"), CultureInfo.InvariantCulture);
int seed = int.Parse(Option("--seed", "1"), CultureInfo.InvariantCulture);
TimeSpan limit = TimeSpan.FromSeconds(int.Parse(Option("--timeout", "30"), CultureInfo.InvariantCulture));
string tiny = GeneratedModels.Ensure(ModelShape.Tiny);
string[] vocabularies = Directory.GetFiles(Path.Combine(LlamaCppSource.Directory, "models"), "ggml-vocab-*.gguf").Order(StringComparer.Ordinal).ToArray();
string directory = Directory.CreateTempSubdirectory("localllm-fuzz-").FullName;
var mutators = new Dictionary<string, ModelMutator>();
var outcomes = new Dictionary<string, int>();
var failures = new List<string>();
var stopwatch = Stopwatch.StartNew();
try
{
    for (int i = 0; i < cases; i++)
    {
        // Deterministic across runs (HashCode.Combine is seeded per process): case i of seed s is always the same.
        int caseSeed = unchecked((seed * 1_000_003) + i);
        var random = new Random(caseSeed);
        string file = Path.Combine(directory, $"case-{seed}-{i}.gguf");
        int kind = random.Next(10);
        string what;
        string[] probe;
        if (kind < 6)
        {
            what = Mutator(tiny).Write(random, file);
            probe = ["--run", file];
        }
        else if (kind < 8)
        {
            string vocabulary = vocabularies[random.Next(vocabularies.Length)];
            what = $"{Path.GetFileNameWithoutExtension(vocabulary)}: {Mutator(vocabulary).Write(random, file)}";
            probe = ["--tokenize", file];
        }
        else
        {
            what = $"API case {caseSeed}";
            probe = ["--api", tiny, caseSeed.ToString(CultureInfo.InvariantCulture)];
        }

        (string outcome, string detail) = RunChild(probe, limit);
        string tally = outcome == "refused" ? $"refused with {detail[..Math.Max(detail.IndexOf(':', StringComparison.Ordinal), 0)]}" : outcome;
        outcomes[tally] = outcomes.GetValueOrDefault(tally) + 1;
        if (outcome is not ("ran" or "refused"))
        {
            failures.Add($"case {i} ({what}): {outcome} {detail}");
            if (File.Exists(file))
            {
                File.Copy(file, Path.Combine(Path.GetTempPath(), $"localllm-fuzz-failure-{seed}-{i}.gguf"), overwrite: true);
            }
        }

        File.Delete(file);
        if ((i + 1) % 250 == 0 && i + 1 < cases)
        {
            // A long run reports as it goes, so that a stopped run still has figures.
            Console.WriteLine($"{i + 1} cases in {stopwatch.Elapsed.TotalSeconds:F0} s: {failures.Count} failures; {string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Value} {o.Key}"))}");
        }
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

ModelMutator Mutator(string source) => mutators.TryGetValue(source, out ModelMutator? mutator) ? mutator : mutators[source] = new ModelMutator(source);

string Option(string name, string fallback) => Array.IndexOf(args, name) is int at and >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;

(string Outcome, string Detail) RunChild(string[] probe, TimeSpan timeout)
{
    ChildRun child = ChildRun.Start(typeof(ModelMutator).Assembly.Location, probe, timeout);
    return (child.Exited, child.ExitCode) switch
    {
        (false, _) => ("hung", $"(no exit within {timeout.TotalSeconds:F0} s)"),
        (_, Probe.Ran) => ("ran", string.Empty),
        (_, Probe.Refused) => ("refused", child.LastErrorLine),
        (_, Probe.UnexpectedException) => ("threw an unexpected exception", child.LastErrorLine),
        _ => ($"crashed (exit {child.ExitCode})", child.LastErrorLine),
    };
}
