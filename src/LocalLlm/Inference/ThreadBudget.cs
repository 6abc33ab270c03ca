using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace LocalLlm;

/// <summary>
/// How many threads the next decode may use, given what other processes are doing with the machine's cores.
/// </summary>
/// <remarks>
/// llama.cpp's CPU workers meet at a spinning barrier after every graph node. When another process holds one of the
/// cores they run on, a worker waits out whole scheduler time slices at each barrier, and generation falls 30-100x
/// (measured: 760 to 7 tokens/s on a 2-core machine with one busy competitor). One thread fewer than the free cores
/// never meets that wall. Every quarter second (Linux), the CPU time other processes used since the last look is read
/// from <c>/proc/stat</c> less this process's own (<c>/proc/self/stat</c>); the budget is the free cores, at most the
/// configured counts and at least one. It drops at once and rises only after two calm looks in a row. Only the cores
/// this process may run on (its affinity) are counted.
/// </remarks>
internal sealed class ThreadBudget
{
    private static readonly long CheckInterval = Stopwatch.Frequency / 4;

    private readonly int _threads;
    private readonly int _batchThreads;
    private readonly long? _affinity;
    private readonly int _cores;
    private byte[]? _buffer;
    private long _nextCheck;
    private long _lastTimestamp;
    private long _lastBusyTicks;
    private long _lastOwnTicks;
    private int _calmLooks;

    public ThreadBudget(int threads, int batchThreads)
    {
        _threads = threads;
        _batchThreads = batchThreads;
        _affinity = OperatingSystem.IsLinux() ? ReadAffinity() : null;
        _cores = _affinity is { } mask ? System.Numerics.BitOperations.PopCount((ulong)mask) : Environment.ProcessorCount;
        Threads = threads;
        BatchThreads = batchThreads;
    }

    /// <summary>Gets the threads a single-token decode may use now.</summary>
    public int Threads { get; private set; }

    /// <summary>Gets the threads a larger decode may use now.</summary>
    public int BatchThreads { get; private set; }

    /// <summary>Gets the cores other processes kept busy over the last look (NaN before two looks).</summary>
    public double OtherProcessesCores { get; private set; } = double.NaN;

    /// <summary>Looks at the machine when a quarter second has passed; returns true when the budget changed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Update()
    {
        long now = Stopwatch.GetTimestamp();
        if (now < _nextCheck || !OperatingSystem.IsLinux())
        {
            return false;
        }

        _nextCheck = now + CheckInterval;
        _buffer ??= new byte[64 * 1024];
        if (!ProcessorTicks.TryRead(_affinity, _buffer, out long busy, out long own))
        {
            return false;
        }

        long previous = _lastTimestamp;
        double seconds = (now - previous) / (double)Stopwatch.Frequency;
        (long busyDelta, long ownDelta) = (busy - _lastBusyTicks, own - _lastOwnTicks);
        (_lastTimestamp, _lastBusyTicks, _lastOwnTicks) = (now, busy, own);
        if (previous == 0 || seconds <= 0)
        {
            return false;
        }

        OtherProcessesCores = Math.Max(0, busyDelta - ownDelta) / (seconds * ProcessorTicks.PerSecond);

        // Busy cores are counted where this process may run; a CPU quota can leave it fewer still.
        return Apply(Math.Min(Environment.ProcessorCount, FreeCores(_cores, OtherProcessesCores)));
    }

    /// <summary>The cores a decode may count on: a core another process keeps a quarter busy is not free.</summary>
    internal static int FreeCores(int cores, double otherProcessesCores) =>
        Math.Max(1, (int)Math.Floor(cores - otherProcessesCores + 0.25));

    /// <summary>Sets the budget from <paramref name="freeCores"/>; returns true when it changed.</summary>
    internal bool Apply(int freeCores)
    {
        int threads = Math.Min(_threads, freeCores);
        int batchThreads = Math.Min(_batchThreads, freeCores);
        if (threads == Threads && batchThreads == BatchThreads)
        {
            _calmLooks = 0;
            return false;
        }

        // Rise only after two calm looks: a competitor that pauses for a moment should not cost a collapse.
        if (threads >= Threads && batchThreads >= BatchThreads && ++_calmLooks < 2)
        {
            return false;
        }

        _calmLooks = 0;
        (Threads, BatchThreads) = (threads, batchThreads);
        return true;
    }

    /// <summary>The cores this process may run on, as a bit mask, or null when they are not known (or more than 64).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static long? ReadAffinity()
    {
        try
        {
            using var self = Process.GetCurrentProcess();
            return Environment.ProcessorCount <= 64 ? (long)self.ProcessorAffinity : null;
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
