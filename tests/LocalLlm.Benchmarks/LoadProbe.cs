using System.Diagnostics;
using System.Globalization;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Measures how much CPU other processes used while a run was timed, from /proc/stat and /proc/self/stat, so a run
/// disturbed by other work on a shared machine can be repeated instead of polluting the medians.
/// </summary>
internal readonly record struct LoadProbe(long BusyTicks, long OwnTicks, long Timestamp)
{
    private static readonly bool Available = File.Exists("/proc/stat") && File.Exists("/proc/self/stat");

    public static LoadProbe Start() => Available ? new(ReadBusyTicks(), ReadOwnTicks(), Stopwatch.GetTimestamp()) : default;

    /// <summary>The share of the machine's CPU capacity (0 to 1) other processes used since <see cref="Start"/>; 0 when unknown.</summary>
    public double OthersShare()
    {
        if (!Available || Timestamp == 0)
        {
            return 0;
        }

        double seconds = Stopwatch.GetElapsedTime(Timestamp).TotalSeconds;
        long others = (ReadBusyTicks() - BusyTicks) - (ReadOwnTicks() - OwnTicks);

        // USER_HZ is 100 on every Linux configuration .NET runs on.
        return Math.Max(0, others / 100.0 / (seconds * Environment.ProcessorCount));
    }

    private static long ReadBusyTicks()
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        string line = File.ReadLines("/proc/stat").First();
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long busy = 0;
        foreach (int index in (int[])[1, 2, 3, 6, 7, 8])
        {
            busy += long.Parse(fields[index], CultureInfo.InvariantCulture);
        }

        return busy;
    }

    private static long ReadOwnTicks()
    {
        // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
