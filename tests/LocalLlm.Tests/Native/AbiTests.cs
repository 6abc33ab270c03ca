using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LocalLlm.Tests.Native;

/// <summary>
/// Proves that every struct and enum in <c>LocalLlm.Native</c> has the layout and values that the C compiler gives
/// the pinned llama.h: size, every field's offset and size, every field C declares, every enum value.
/// </summary>
[TestFixture]
public sealed class AbiTests
{
    private static readonly string[] RequiredStructs =
        ["llama_model_params", "llama_context_params", "llama_batch", "llama_model_quantize_params", "llama_token_data_array"];

    private string? workDirectory;
    private NativeAbiProbe? probe;

    private NativeAbiProbe Probe => probe ?? throw new InvalidOperationException("The ABI probe did not run.");

    public static IEnumerable<TestCaseData> BoundStructs() =>
        NativeAbiProbe.DiscoverBoundStructs().Select(t => new TestCaseData(t).SetArgDisplayNames(t.Name));

    public static IEnumerable<TestCaseData> BoundEnums() =>
        NativeAbiProbe.DiscoverBoundEnums().Select(t => new TestCaseData(t).SetArgDisplayNames(t.Name));

    [OneTimeSetUp]
    public void CompileProbe()
    {
        string sourceDirectory = TestEnvironment.LlamaCppSourceDirectory;
        workDirectory = Path.Combine(Path.GetTempPath(), "localllm-tests", "abi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workDirectory);
        probe = NativeAbiProbe.Run(sourceDirectory, workDirectory);
    }

    [OneTimeTearDown]
    public void DeleteProbe()
    {
        if (workDirectory is not null && Directory.Exists(workDirectory))
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    [Test]
    public void Discovery_FindsTheBoundStructsAndEnums()
    {
        List<string> structs = NativeAbiProbe.DiscoverBoundStructs().Select(t => t.Name).ToList();
        List<string> enums = NativeAbiProbe.DiscoverBoundEnums().Select(t => t.Name).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(structs, Is.Not.Empty);
            Assert.That(structs, Is.SupersetOf(RequiredStructs));
            Assert.That(enums, Is.Not.Empty);
            Assert.That(enums, Does.Contain("ggml_type"));
        });
    }

    [TestCaseSource(nameof(BoundStructs))]
    public void Struct_MatchesLlamaHLayout(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        Assert.That(Probe.Structs.TryGetValue(type.Name, out CStruct? c), Is.True,
            $"struct {type.Name} is bound in C# but no header under include/ or ggml/include/ defines it.");

        var mismatches = new List<string>();
        if (!type.IsLayoutSequential && !type.IsExplicitLayout)
        {
            mismatches.Add($"{type.Name}: has auto layout; native structs need [StructLayout(LayoutKind.Sequential)].");
        }

        if (IsReferenceOrContainsReferences(type))
        {
            mismatches.Add($"{type.Name}: contains managed references; native structs must be blittable.");
        }

        int unsafeSize = ManagedSize(type);
        if (unsafeSize != c!.Size)
        {
            mismatches.Add($"{type.Name}: sizeof is {c.Size} in C (from {c.Header}) but Unsafe.SizeOf is {unsafeSize} in C#.");
        }

        int? marshalSize = Try(() => Marshal.SizeOf(type));
        if (marshalSize != c.Size)
        {
            mismatches.Add($"{type.Name}: sizeof is {c.Size} in C but Marshal.SizeOf is {Describe(marshalSize)} in C#.");
        }

        IReadOnlyList<FieldInfo> managed = NativeAbiProbe.ManagedFields(type);
        var managedByName = managed.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var cByName = c.Fields.ToDictionary(f => f.Name, StringComparer.Ordinal);

        foreach (CField missing in c.Fields.Where(f => !managedByName.ContainsKey(f.Name)))
        {
            mismatches.Add($"{type.Name}.{missing.Name}: declared in C (offset {missing.Offset}, size {missing.Size}) but missing in C#.");
        }

        if (managed.Count != c.Fields.Count)
        {
            mismatches.Add($"{type.Name}: C declares {c.Fields.Count} fields, C# declares {managed.Count}.");
        }

        foreach (FieldInfo field in managed)
        {
            if (!cByName.TryGetValue(field.Name, out CField? cField))
            {
                mismatches.Add($"{type.Name}.{field.Name}: declared in C# but struct {type.Name} in C has no such field.");
                continue;
            }

            long? offset = Try(() => (long)Marshal.OffsetOf(type, field.Name));
            if (offset != cField.Offset)
            {
                mismatches.Add($"{type.Name}.{field.Name}: offset is {cField.Offset} in C but {Describe(offset)} in C#.");
            }

            int size = ManagedSize(field.FieldType);
            if (size != cField.Size)
            {
                mismatches.Add($"{type.Name}.{field.Name}: size is {cField.Size} in C but {size} in C# ({field.FieldType.Name}).");
            }

            // bool and char are not blittable (the marshaller widens or narrows them), so LibraryImport would copy the struct.
            int? marshalledSize = MarshalledSize(field.FieldType);
            if (marshalledSize != size)
            {
                mismatches.Add($"{type.Name}.{field.Name}: C# type {field.FieldType.Name} is not blittable (Unsafe.SizeOf {size}, Marshal.SizeOf {Describe(marshalledSize)}); use byte for C bool.");
            }
        }

        Assert.That(mismatches, Is.Empty, $"struct {type.Name} differs from {c.Header}");
    }

    [TestCaseSource(nameof(BoundEnums))]
    public void Enum_MatchesLlamaHValues(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        Assert.That(Probe.Enums.TryGetValue(type.Name, out CEnum? c), Is.True,
            $"enum {type.Name} is bound in C# but no header under include/ or ggml/include/ defines it.");

        var mismatches = new List<string>();
        int size = ManagedSize(Enum.GetUnderlyingType(type));
        if (size != c!.Size)
        {
            mismatches.Add($"{type.Name}: sizeof is {c.Size} in C (from {c.Header}) but {size} in C# ({Enum.GetUnderlyingType(type).Name}).");
        }

        foreach (FieldInfo member in type.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            long value = Convert.ToInt64(member.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
            if (!c.Values.TryGetValue(member.Name, out long cValue))
            {
                mismatches.Add($"{type.Name}.{member.Name}: declared in C# (= {value}) but enum {type.Name} in C has no such member.");
            }
            else if (cValue != value)
            {
                mismatches.Add($"{type.Name}.{member.Name}: value is {cValue} in C but {value} in C#.");
            }
        }

        Assert.That(mismatches, Is.Empty, $"enum {type.Name} differs from {c.Header}");
    }

    /// <summary>Bytes a value of <paramref name="type"/> occupies in a blittable struct (what <c>Unsafe.SizeOf</c> says).</summary>
    private static int ManagedSize(Type type) =>
        type.IsPointer || type.IsFunctionPointer || type.IsUnmanagedFunctionPointer
            ? IntPtr.Size
            : (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static int? MarshalledSize(Type type) =>
        type.IsPointer || type.IsFunctionPointer || type.IsUnmanagedFunctionPointer
            ? IntPtr.Size
            : Try(() => Marshal.SizeOf(type.IsEnum ? Enum.GetUnderlyingType(type) : type));

    private static bool IsReferenceOrContainsReferences(Type type) =>
        (bool)typeof(RuntimeHelpers).GetMethod(nameof(RuntimeHelpers.IsReferenceOrContainsReferences))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static string Describe(long? value) =>
        value is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "an exception";

    private static T? Try<T>(Func<T> read)
        where T : struct
    {
        try
        {
            return read();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
