using Microsoft.Extensions.Logging;

namespace LocalLlm.Tests;

/// <summary>Loads llama.cpp once for the whole run, with a logger that records what it says.</summary>
[SetUpFixture]
public sealed class NativeTestSetup
{
    public static RecordingLoggerProvider Log { get; } = new();

    public static LlamaBackendInfo Backend { get; private set; } = null!;

    [OneTimeSetUp]
    public void LoadNativeRuntime()
    {
        ILoggerFactory factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(Log));
        Backend = LlamaBackend.Initialize(new LlamaBackendOptions { LoggerFactory = factory });
    }
}
