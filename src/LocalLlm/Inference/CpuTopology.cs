
namespace LocalLlm;

/// <summary>Counts physical cores: llama.cpp runs fastest with one thread per core, not per hardware thread.</summary>
internal static class CpuTopology
{
    private static readonly Lazy<int> s_physicalCores = new(CountPhysicalCores);

    public static int PhysicalCoreCount => s_physicalCores.Value;

    private static int CountPhysicalCores()
    {
        try
        {
            var cores = new HashSet<(string Package, string Core)>();
            foreach (string cpu in Directory.EnumerateDirectories("/sys/devices/system/cpu", "cpu*"))
            {
                string topology = Path.Combine(cpu, "topology");
                string coreFile = Path.Combine(topology, "core_id");
                string packageFile = Path.Combine(topology, "physical_package_id");
                if (File.Exists(coreFile) && File.Exists(packageFile) && char.IsDigit(Path.GetFileName(cpu)[^1]))
                {
                    cores.Add((File.ReadAllText(packageFile).Trim(), File.ReadAllText(coreFile).Trim()));
                }
            }

            int count = cores.Count;
            return count > 0 ? Math.Min(count, Environment.ProcessorCount) : Environment.ProcessorCount;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
        catch (UnauthorizedAccessException)
        {
            return Environment.ProcessorCount;
        }
    }
}
