using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using LocalLlm.Native;

namespace LocalLlm.Tests.Native;

/// <summary>
/// What the C compiler says about the structs and enums that <c>LocalLlm.Native</c> binds: it finds their
/// definitions in llama.cpp's headers (which fields and enum members C declares), then compiles and runs a
/// C program that prints <c>sizeof</c>, <c>offsetof</c> and enum values.
/// </summary>
internal sealed partial class NativeAbiProbe
{
    private NativeAbiProbe(
        IReadOnlyDictionary<string, CStruct> structs,
        IReadOnlyDictionary<string, CEnum> enums,
        string sourceText,
        string output)
    {
        Structs = structs;
        Enums = enums;
        SourceText = sourceText;
        Output = output;
    }

    /// <summary>Bound structs that a header defines, by name.</summary>
    public IReadOnlyDictionary<string, CStruct> Structs { get; }

    /// <summary>Bound enums that a header defines, by name.</summary>
    public IReadOnlyDictionary<string, CEnum> Enums { get; }

    /// <summary>The generated C program, for failure messages.</summary>
    public string SourceText { get; }

    /// <summary>What the compiled program printed: one line per size, offset and enum value, in a fixed order.</summary>
    public string Output { get; }

    /// <summary>Every struct in <c>LocalLlm.Native</c> whose name starts with <c>llama_</c> or <c>ggml_</c>.</summary>
    public static IReadOnlyList<Type> DiscoverBoundStructs() =>
        NativeTypes()
            .Where(t => t.IsValueType && !t.IsEnum && (t.Name.StartsWith("llama_", StringComparison.Ordinal) || t.Name.StartsWith("ggml_", StringComparison.Ordinal)))
            .ToList();

    /// <summary>Every enum in <c>LocalLlm.Native</c> that mirrors a llama.h or ggml.h enum (named as in C); the chat shim's own are proven by ChatLayerAbiTests.</summary>
    public static IReadOnlyList<Type> DiscoverBoundEnums() =>
        NativeTypes().Where(t => t.IsEnum && (t.Name.StartsWith("llama_", StringComparison.Ordinal) || t.Name.StartsWith("ggml_", StringComparison.Ordinal))).ToList();

    /// <summary>The instance fields of a bound struct, in declaration order.</summary>
    public static IReadOnlyList<FieldInfo> ManagedFields(Type type) =>
        type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).OrderBy(f => f.MetadataToken).ToList();

    /// <summary>Reads the headers under <paramref name="llamaCppSourceDirectory"/>, compiles the probe in <paramref name="workDirectory"/>, runs it.</summary>
    /// <param name="llamaCppSourceDirectory">The pinned llama.cpp source tree.</param>
    /// <param name="workDirectory">Where the C program and its binary go.</param>
    /// <param name="compiler">A C compiler for another machine (aarch64-linux-gnu-gcc); null for this machine's cc.</param>
    /// <param name="runner">The emulator and its arguments that run the binary (qemu-aarch64-static -L sysroot); null to run it directly.</param>
    public static NativeAbiProbe Run(string llamaCppSourceDirectory, string workDirectory, string? compiler = null, IReadOnlyList<string>? runner = null)
    {
        string[] includeDirectories =
        [
            Path.Combine(llamaCppSourceDirectory, "include"),
            Path.Combine(llamaCppSourceDirectory, "ggml", "include"),
        ];
        string llamaHeader = Path.Combine(includeDirectories[0], "llama.h");
        if (!File.Exists(llamaHeader))
        {
            throw new InvalidOperationException($"llama.h not found at '{llamaHeader}'; LlamaCppSourceDir='{llamaCppSourceDirectory}' is not a llama.cpp source tree.");
        }

        List<(string FileName, string Code)> headers = includeDirectories
            .SelectMany(d => Directory.EnumerateFiles(d, "*.h"))
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path), StripCommentsAndDirectives(File.ReadAllText(path))))
            .ToList();

        var declaredStructs = new Dictionary<string, (string Header, List<string> Fields)>(StringComparer.Ordinal);
        foreach (Type type in DiscoverBoundStructs())
        {
            if (FindBody(headers, $@"\bstruct\s+{type.Name}\s*\{{") is { } found)
            {
                declaredStructs[type.Name] = (found.Header, ParseFieldNames(found.Body));
            }
        }

        var declaredEnums = new Dictionary<string, (string Header, List<string> Members)>(StringComparer.Ordinal);
        foreach (Type type in DiscoverBoundEnums())
        {
            if (FindBody(headers, $@"\benum\s+{type.Name}\s*(?::[^{{;]*)?\{{") is { } found)
            {
                declaredEnums[type.Name] = (found.Header, ParseEnumMemberNames(found.Body));
            }
        }

        string source = GenerateSource(declaredStructs, declaredEnums);
        string output = CompileAndRun(source, includeDirectories, workDirectory, compiler ?? FindCompiler(), runner ?? []);
        return Parse(output, declaredStructs, declaredEnums, source);
    }

    private static IEnumerable<Type> NativeTypes() =>
        typeof(NativeMethods).Assembly.GetTypes()
            .Where(t => t.Namespace == "LocalLlm.Native" && !t.IsNested)
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    private static string GenerateSource(
        Dictionary<string, (string Header, List<string> Fields)> structs,
        Dictionary<string, (string Header, List<string> Members)> enums)
    {
        var c = new StringBuilder();
        c.AppendLine("#include <stddef.h>");
        c.AppendLine("#include <stdio.h>");
        c.AppendLine("#include \"llama.h\"");
        foreach (string header in structs.Values.Select(s => s.Header).Concat(enums.Values.Select(e => e.Header)).Distinct().Order(StringComparer.Ordinal))
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"#include \"{header}\"");
        }

        c.AppendLine();
        c.AppendLine("int main(void) {");
        foreach ((string name, (_, List<string> fields)) in structs)
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"    printf(\"S {name} %zu\\n\", sizeof(struct {name}));");
            foreach (string field in fields)
            {
                c.AppendLine(CultureInfo.InvariantCulture,
                    $"    printf(\"F {name} {field} %zu %zu\\n\", offsetof(struct {name}, {field}), sizeof(((struct {name} *)0)->{field}));");
            }
        }

        foreach ((string name, (_, List<string> members)) in enums)
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"    printf(\"E {name} %zu\\n\", sizeof(enum {name}));");
            foreach (string member in members)
            {
                c.AppendLine(CultureInfo.InvariantCulture, $"    printf(\"V {name} {member} %lld\\n\", (long long)({member}));");
            }
        }

        c.AppendLine("    return 0;");
        c.AppendLine("}");
        return c.ToString();
    }

    private static string CompileAndRun(string source, string[] includeDirectories, string workDirectory, string compiler, IReadOnlyList<string> runner)
    {
        string sourcePath = Path.Combine(workDirectory, "abi_probe.c");
        string binaryPath = Path.Combine(workDirectory, "abi_probe");
        File.WriteAllText(sourcePath, source);

        var compile = new List<string> { "-std=c11", "-o", binaryPath, sourcePath };
        foreach (string include in includeDirectories)
        {
            compile.Add("-I");
            compile.Add(include);
        }

        (int compileExit, _, string compileErrors) = Execute(compiler, compile);
        if (compileExit != 0)
        {
            throw new InvalidOperationException(
                $"'{compiler} {string.Join(' ', compile)}' failed with exit code {compileExit}; the generated probe is {sourcePath}.\n{compileErrors}");
        }

        (int runExit, string output, string runErrors) = runner.Count > 0
            ? Execute(runner[0], [.. runner.Skip(1), binaryPath])
            : Execute(binaryPath, []);
        if (runExit != 0)
        {
            throw new InvalidOperationException($"The ABI probe '{binaryPath}' exited with code {runExit}.\n{runErrors}");
        }

        return output;
    }

    private static string FindCompiler() =>
        new[] { "cc", "gcc", "clang" }.Select(TestEnvironment.FindOnPath).FirstOrDefault(path => path is not null)
        ?? throw new InvalidOperationException(
            "The ABI test needs a C compiler to read llama.h's layouts, but none of cc, gcc or clang is on PATH. Install one (e.g. apt-get install gcc).");

    private static (int ExitCode, string Output, string Errors) Execute(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{fileName}'.");
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException($"'{fileName}' did not finish within 2 minutes.");
        }

        return (process.ExitCode, output, errors.GetAwaiter().GetResult());
    }

    private static NativeAbiProbe Parse(
        string output,
        Dictionary<string, (string Header, List<string> Fields)> declaredStructs,
        Dictionary<string, (string Header, List<string> Members)> declaredEnums,
        string source)
    {
        var structSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var fields = new Dictionary<(string, string), CField>();
        var enumSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var values = new Dictionary<(string, string), long>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] p = line.Split(' ');
            switch (p[0])
            {
                case "S":
                    structSizes[p[1]] = long.Parse(p[2], CultureInfo.InvariantCulture);
                    break;
                case "F":
                    fields[(p[1], p[2])] = new CField(p[2], long.Parse(p[3], CultureInfo.InvariantCulture), long.Parse(p[4], CultureInfo.InvariantCulture));
                    break;
                case "E":
                    enumSizes[p[1]] = long.Parse(p[2], CultureInfo.InvariantCulture);
                    break;
                case "V":
                    values[(p[1], p[2])] = long.Parse(p[3], CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new FormatException($"Unexpected line from the ABI probe: '{line}'.");
            }
        }

        var structs = declaredStructs.ToDictionary(
            s => s.Key,
            s => new CStruct(s.Key, s.Value.Header, structSizes[s.Key], s.Value.Fields.Select(f => fields[(s.Key, f)]).ToList()),
            StringComparer.Ordinal);
        var enums = declaredEnums.ToDictionary(
            e => e.Key,
            e => new CEnum(e.Key, e.Value.Header, enumSizes[e.Key], e.Value.Members.ToDictionary(m => m, m => values[(e.Key, m)], StringComparer.Ordinal)),
            StringComparer.Ordinal);
        return new NativeAbiProbe(structs, enums, source, output);
    }
}

/// <summary>A struct as C lays it out: fields in declaration order.</summary>
internal sealed record CStruct(string Name, string Header, long Size, IReadOnlyList<CField> Fields);

/// <summary>A field's byte offset and size in C.</summary>
internal sealed record CField(string Name, long Offset, long Size);

/// <summary>An enum's size in C and the value of every member its header declares.</summary>
internal sealed record CEnum(string Name, string Header, long Size, IReadOnlyDictionary<string, long> Values);
