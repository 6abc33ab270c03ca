using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Inference;

/// <summary>Loads the generated tiny llama model (random weights, Llama 3 tokenizer) once for a test class.</summary>
public abstract class TinyModelFixture
{
    protected LlamaModel Model { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task LoadTiny() => Model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Tiny));

    [OneTimeTearDown]
    public void DisposeTiny() => Model?.Dispose();

    protected LlamaSession CreateSession(int contextSize = 512, LlamaContextOverflowPolicy policy = LlamaContextOverflowPolicy.Shift) =>
        new(Model, new LlamaContextOptions { ContextSize = contextSize, ThreadCount = 2, OverflowPolicy = policy });

    protected static LlamaGenerationOptions Greedy(int maxTokens) => new() { MaxTokens = maxTokens, Sampling = LlamaSamplingOptions.Greedy };
}
