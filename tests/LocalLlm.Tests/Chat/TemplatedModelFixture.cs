using LocalLlm.ModelGenerator;

namespace LocalLlm.Tests.Chat;

/// <summary>Loads, once for a test class, the generated tiny model (random weights, Llama 3 tokenizer) carrying a real chat template from the pinned llama.cpp source.</summary>
/// <param name="templateFile">The template under the source's models/templates/.</param>
/// <param name="variant">The generated model's variant name.</param>
public abstract class TemplatedModelFixture(string templateFile, string variant)
{
    protected LlamaModel Model { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task LoadTemplatedModel() =>
        Model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelSpec.For(ModelShape.Tiny) with { ChatTemplateFile = templateFile, Variant = variant }));

    [OneTimeTearDown]
    public void DisposeTemplatedModel() => Model?.Dispose();
}
