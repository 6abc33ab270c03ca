using System.Diagnostics;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Measures how much CPU other processes used while a run was timed (the SDK's <see cref="ProcessorTicks"/>), so a
/// run disturbed by other work on a shared machine can be repeated instead of polluting the medians.
/// </summary>
internal readonly record struct LoadProbe(long BusyTicks, long OwnTicks, long Timestamp)
{
    public static LoadProbe Start() =>
        Read(out long busy, out long own) ? new(busy, own, Stopwatch.GetTimestamp()) : default;

    /// <summary>The share of the machine's CPU capacity (0 to 1) other processes used since <see cref="Start"/>; 0 when unknown.</summary>
    public double OthersShare()
    {
        if (Timestamp == 0 || !Read(out long busy, out long own))
        {
            return 0;
        }

        double seconds = Stopwatch.GetElapsedTime(Timestamp).TotalSeconds;
        long others = (busy - BusyTicks) - (own - OwnTicks);
        return Math.Max(0, others / (double)ProcessorTicks.PerSecond / (seconds * Environment.ProcessorCount));
    }

    private static bool Read(out long busy, out long own) => ProcessorTicks.TryRead(affinity: null, new byte[4096], out busy, out own);
}
