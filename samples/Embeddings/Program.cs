// Semantic search: embeds a query and a handful of sentences with LlamaEmbeddingGenerator (an IEmbeddingGenerator)
// and ranks the sentences by cosine similarity to the query.
//
//   dotnet run --project samples/Embeddings -- [--model path/to/embedding-model.gguf] [--query "a sleepy cat"]
//
// Use an embedding model (bge, nomic-embed, e5, gte, …); the model's metadata chooses the pooling.
using System.Globalization;
using System.Numerics.Tensors;
using LocalLlm;
using LocalLlm.ModelGenerator;
using Microsoft.Extensions.AI;

string[] sentences =
[
    "The cat sleeps on the warm windowsill.",
    "A kitten naps in a patch of sunlight.",
    "Stock markets fell sharply on Monday.",
    "Investors are worried about rising interest rates.",
    "The recipe needs two cups of flour and an egg.",
    "Bake the bread for forty minutes at 200 degrees.",
    "The home team won the championship in overtime.",
    "Llamas are related to camels and alpacas.",
];

string? modelPath = null;
string query = "Where is the cat resting?";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model" when i + 1 < args.Length: modelPath = args[++i]; break;
        case "--query" when i + 1 < args.Length: query = args[++i]; break;
        default:
            Console.Error.WriteLine($"Unexpected argument '{args[i]}'. Usage: Embeddings [--model <path.gguf>] [--query \"<text>\"]");
            return 2;
    }
}

if (modelPath is null)
{
    modelPath = GeneratedModels.Ensure(ModelShape.Embedding);
    Console.WriteLine("No --model given: using a generated model with random weights, so the ranking is arbitrary. Try a real one: --model path/to/model.gguf");
}

LlamaModel model;
try
{
    model = await LlamaModel.LoadAsync(modelPath);
}
catch (Exception ex) when (ex is LlamaException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

using (model)
using (var generator = new LlamaEmbeddingGenerator(model))
{
    // One call (IEmbeddingGenerator.GenerateAsync) embeds the query and every sentence, returned in the same order.
    GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync([query, .. sentences]);
    ReadOnlyMemory<float> queryVector = embeddings[0].Vector;

    var ranked = sentences
        .Select((sentence, i) => (Sentence: sentence, Score: TensorPrimitives.CosineSimilarity(queryVector.Span, embeddings[i + 1].Vector.Span)))
        .OrderByDescending(match => match.Score);

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{Path.GetFileName(model.Path)}: {embeddings[0].Vector.Length} dimensions, pooling: {generator.Pooling}"));
    Console.WriteLine($"Query: {query}");
    int rank = 1;
    foreach ((string sentence, float score) in ranked)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rank++,3}. {score,7:F4}  {sentence}"));
    }
}

return 0;
