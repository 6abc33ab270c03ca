namespace LocalLlm.Tests.Models;

/// <summary>Loads llama.cpp's Llama 3 BPE vocabulary (tokenizer only) once for a test class.</summary>
public abstract class VocabularyModelFixture
{
    protected LlamaModel Model { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task LoadVocabulary() =>
        Model = await LlamaModel.LoadAsync(TestEnvironment.VocabularyPath("llama-bpe"), new LlamaModelOptions { VocabularyOnly = true });

    [OneTimeTearDown]
    public void DisposeModel() => Model?.Dispose();
}
