using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LocalLlm;

/// <summary>Logs a model download's progress: its start, every five seconds, and its end.</summary>
internal sealed partial class DownloadProgressLog(ILogger logger) : IProgress<LlamaDownloadProgress>
{
    private readonly Lock _gate = new();
    private string? _file;
    private long _lastLog;

    public void Report(LlamaDownloadProgress value)
    {
        lock (_gate)
        {
            bool newFile = _file != value.FileName;
            bool done = value.TotalBytes == value.BytesReceived;
            if (!newFile && !done && Stopwatch.GetElapsedTime(_lastLog) < TimeSpan.FromSeconds(5))
            {
                return;
            }

            _file = value.FileName;
            _lastLog = Stopwatch.GetTimestamp();
        }

        LogProgress(logger, value.FileName, value.BytesReceived / 1048576.0, value.TotalBytes / 1048576.0, value.BytesPerSecond / 1048576.0, value.EstimatedTimeLeft);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Downloading {File}: {ReceivedMiB:F1} of {TotalMiB:F1} MiB at {MiBPerSecond:F1} MiB/s, {TimeLeft} left")]
    private static partial void LogProgress(ILogger logger, string file, double receivedMiB, double? totalMiB, double miBPerSecond, TimeSpan? timeLeft);
}
