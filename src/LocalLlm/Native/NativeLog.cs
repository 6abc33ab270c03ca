using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LocalLlm.Native;

/// <summary>
/// Routes llama.cpp's and ggml's log into one <see cref="ILogger"/> category, assembling the fragments
/// llama.cpp writes into whole lines. Part of the process-wide native initialisation.
/// </summary>
internal static unsafe partial class NativeLog
{
    internal const string CategoryName = "LocalLlm.LlamaCpp";

    private static ILogger s_logger = NullLogger.Instance;
    private static ILoggerFactory? s_loggerFactory;

    [ThreadStatic]
    private static StringBuilder? t_pending;

    [ThreadStatic]
    private static LogLevel t_pendingLevel;

    [ThreadStatic]
    private static List<string>? t_capturedErrors;

    [ThreadStatic]
    private static AbortFlag? t_decodingWith;

    [ThreadStatic]
    private static List<string>? t_capturedPlacement;

    /// <summary>Installs the callback; llama.cpp then stops writing to stderr.</summary>
    public static void Install(ILoggerFactory? loggerFactory)
    {
        SetLoggerFactory(loggerFactory);
        NativeMethods.llama_log_set(&OnLog, nint.Zero);
        NativeMethods.ggml_log_set(&OnLog, nint.Zero);
    }

    /// <summary>Binds the logger once; a later factory only replaces the silent default.</summary>
    public static void SetLoggerFactory(ILoggerFactory? loggerFactory)
    {
        if (loggerFactory is not null && ReferenceEquals(s_logger, NullLogger.Instance))
        {
            s_loggerFactory = loggerFactory;
            s_logger = loggerFactory.CreateLogger(CategoryName);
        }
    }

    /// <summary>A logger from the factory the backend was initialised with (silent when there was none).</summary>
    public static ILogger CreateLogger(string categoryName)
    {
        try
        {
            return s_loggerFactory?.CreateLogger(categoryName) ?? NullLogger.Instance;
        }
        catch (ObjectDisposedException)
        {
            // The backend was first initialised by a host that has since stopped (a test server, a benchmark host):
            // a model loaded later in the same process logs nowhere rather than failing to load.
            return NullLogger.Instance;
        }
    }

    /// <summary>
    /// Collects the warning and error lines llama.cpp logs on the calling thread until the scope is disposed,
    /// so that a failed native call can say why it failed.
    /// </summary>
    public static ErrorCapture CaptureErrors() => new(t_capturedErrors = []);

    /// <summary>
    /// Collects the lines in which llama.cpp, loading a model on the calling thread, says which device each layer went
    /// to (<c>load_tensors: layer N assigned to device X</c>, logged at debug level) until the scope is disposed.
    /// </summary>
    public static PlacementCapture CapturePlacement() => new(t_capturedPlacement = []);

    /// <summary>
    /// Marks the calling thread as decoding with <paramref name="abort"/> until the scope is disposed: the errors and
    /// warnings llama.cpp logs when a decode stops because it was asked to (the graph computation "failed", the decode
    /// "failed", the batch's cells are removed again) are logged at Debug then, since a cancellation is not a fault.
    /// </summary>
    public static AbortScope WhileDecoding(AbortFlag? abort)
    {
        t_decodingWith = abort;
        return default;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(ggml_log_level level, byte* text, nint userData)
    {
        try
        {
            string fragment = Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;
            StringBuilder pending = t_pending ??= new StringBuilder();
            if (level != ggml_log_level.GGML_LOG_LEVEL_CONT && pending.Length == 0)
            {
                t_pendingLevel = Map(level);
            }

            pending.Append(fragment);
            if (pending.Length > 0 && pending[^1] == '\n')
            {
                string line = pending.ToString().TrimEnd('\n', '\r');
                pending.Clear();
                Emit(t_pendingLevel, line);
            }
        }
        catch (Exception)
        {
            // Nothing may unwind into native code; a lost log line is the lesser harm.
        }
    }

    private static void Emit(LogLevel level, string line)
    {
        if (level is LogLevel.Error or LogLevel.Warning && t_decodingWith is { Abort: true })
        {
            level = LogLevel.Debug;
        }

        if (level >= LogLevel.Warning)
        {
            t_capturedErrors?.Add(line);
        }
        else if (t_capturedPlacement is { } placement && line.StartsWith("load_tensors: layer", StringComparison.Ordinal))
        {
            placement.Add(line);
        }

        if (line.Length > 0 && s_logger.IsEnabled(level))
        {
            LogLine(s_logger, level, line);
        }
    }

    [LoggerMessage(EventId = 100, Message = "{LlamaCppMessage}")]
    private static partial void LogLine(ILogger logger, LogLevel level, string llamaCppMessage);

    private static LogLevel Map(ggml_log_level level) => level switch
    {
        ggml_log_level.GGML_LOG_LEVEL_ERROR => LogLevel.Error,
        ggml_log_level.GGML_LOG_LEVEL_WARN => LogLevel.Warning,
        ggml_log_level.GGML_LOG_LEVEL_INFO => LogLevel.Debug,
        _ => LogLevel.Trace,
    };

    /// <summary>The scope of <see cref="WhileDecoding"/>.</summary>
    public readonly struct AbortScope : IDisposable
    {
        public void Dispose() => t_decodingWith = null;
    }

    /// <summary>The lines captured by <see cref="CapturePlacement"/>.</summary>
    public readonly struct PlacementCapture : IDisposable
    {
        private readonly List<string> _lines;

        internal PlacementCapture(List<string> lines) => _lines = lines;

        public IReadOnlyList<string> Lines => _lines;

        public void Dispose() => t_capturedPlacement = null;
    }

    /// <summary>The lines captured by <see cref="CaptureErrors"/>.</summary>
    public readonly struct ErrorCapture : IDisposable
    {
        private readonly List<string> _lines;

        internal ErrorCapture(List<string> lines) => _lines = lines;

        public IReadOnlyList<string> Lines => _lines;

        /// <summary>The most specific line: the last error llama.cpp logged, or null.</summary>
        public string? LastLine => _lines.Count > 0 ? _lines[^1] : null;

        public void Dispose() => t_capturedErrors = null;
    }
}
