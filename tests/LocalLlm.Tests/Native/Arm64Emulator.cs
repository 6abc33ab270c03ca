namespace LocalLlm.Tests.Native;

/// <summary>
/// qemu-user and Debian's arm64 C library (g++-aarch64-linux-gnu's sysroot), which run linux-arm64 programs on this
/// x64 machine; build/test.sh installs both where it may.
/// </summary>
internal static class Arm64Emulator
{
    public const string Sysroot = "/usr/aarch64-linux-gnu";

    /// <summary>The emulator's path, or null when qemu-user is not installed.</summary>
    public static string? Path { get; } = new[] { "qemu-aarch64-static", "qemu-aarch64" }.Select(TestEnvironment.FindOnPath).FirstOrDefault(p => p is not null);

    /// <summary>Makes the calling test inconclusive, naming what to install, unless both are installed.</summary>
    public static void AssumeInstalled()
    {
        Assume.That(Path, Is.Not.Null, "qemu-user is not installed (apt-get install qemu-user-static); build/test.sh installs it");
        Assume.That(File.Exists(System.IO.Path.Combine(Sysroot, "lib", "ld-linux-aarch64.so.1")), Is.True,
            $"the arm64 C library is not installed under {Sysroot} (apt-get install g++-aarch64-linux-gnu); build/test.sh installs it");
    }

    /// <summary>The emulator's arguments that run <paramref name="program"/> with <paramref name="arguments"/>.</summary>
    public static string[] Arguments(string program, params IEnumerable<string> arguments) => ["-L", Sysroot, program, .. arguments];
}
