using System.Buffers.Text;
using Microsoft.Win32.SafeHandles;

namespace LocalLlm;

/// <summary>
/// CPU time from Linux's <c>/proc</c>, in clock ticks: how long a set of cores was busy (all processes), and how long
/// this process ran. The difference over an interval is what other processes used.
/// </summary>
internal static class ProcessorTicks
{
    /// <summary>USER_HZ, 100 on every Linux the runtime supports.</summary>
    public const int PerSecond = 100;

    /// <summary>
    /// Reads the busy time of the cores in <paramref name="affinity"/> (a bit mask of cores 0-63; null for the whole
    /// machine) and this process's own time, using <paramref name="buffer"/> to read the files into (64 KiB holds
    /// every core's line on a 64-core machine); false when <c>/proc</c> cannot be read.
    /// </summary>
    public static bool TryRead(long? affinity, Span<byte> buffer, out long busy, out long own)
    {
        busy = own = 0;
        try
        {
            // One "cpuN user nice system idle iowait irq softirq steal guest guest_nice" line per core (after the
            // machine's "cpu" total): busy is everything but idle and iowait (guest time is counted in user already).
            ReadOnlySpan<byte> stat = ReadStart("/proc/stat", buffer);
            foreach (Range lineRange in stat.Split((byte)'\n'))
            {
                ReadOnlySpan<byte> line = stat[lineRange];
                if (!line.StartsWith("cpu"u8))
                {
                    break;
                }

                int space = line.IndexOf((byte)' ');
                bool total = space == 3;
                if (total != (affinity is null)
                    || (!total && !(Utf8Parser.TryParse(line[3..space], out int cpu, out _) && cpu < 64 && (affinity!.Value & (1L << cpu)) != 0)))
                {
                    continue;
                }

                int field = 0;
                ReadOnlySpan<byte> values = line[space..];
                foreach (Range range in values.Split((byte)' '))
                {
                    if (!values[range].IsEmpty && Utf8Parser.TryParse(values[range], out long ticks, out _))
                    {
                        field++;
                        busy += field is 4 or 5 or 9 or 10 ? 0 : ticks;
                    }
                }
            }

            // "pid (comm) state ... utime stime": the 14th and 15th fields, counted after the command's closing parenthesis.
            ReadOnlySpan<byte> self = ReadStart("/proc/self/stat", buffer);
            self = self[(self.LastIndexOf((byte)')') + 2)..];
            int selfField = 3;
            foreach (Range range in self.Split((byte)' '))
            {
                if (selfField is 14 or 15 && Utf8Parser.TryParse(self[range], out long ticks, out _))
                {
                    own += ticks;
                }

                if (++selfField > 15)
                {
                    break;
                }
            }

            return busy > 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static ReadOnlySpan<byte> ReadStart(string path, Span<byte> buffer)
    {
        using SafeFileHandle file = File.OpenHandle(path);
        int read = RandomAccess.Read(file, buffer, 0);
        return buffer[..read];
    }
}
