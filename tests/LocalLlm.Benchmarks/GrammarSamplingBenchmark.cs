using System.Diagnostics;
using System.Globalization;
using LocalLlm.Native;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Per-token sampling cost with the JSON grammar on a model's vocabulary: the grammar applied to every candidate
/// before the chain (how LocalLlm sampled before) against the chain first and the grammar checking only the chosen
/// token (llama.cpp's common sampler, what LocalLlm does now), next to the chain without a grammar. The logits peak on
/// the next token of a JSON document, as a model writing JSON would; random weights never do, which is why this
/// measures the sampler on synthetic logits instead of a generated model's output.
///   dotnet run -c Release --project tests/LocalLlm.Benchmarks -- --grammar [--models 1b] [--reps 5]
/// </summary>
internal static class GrammarSamplingBenchmark
{
    private const string Document = """{"name": "llama", "age": 12, "tags": ["wool", "andes"], "friendly": true, "height": 1.8}""";

    public static async Task<int> RunAsync(string[] args)
    {
        string name = BenchmarkSettings.Option(args, "--models", "1b");
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "5"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        using LlamaModel model = await LlamaModel.LoadAsync(ModelBenchmark.EnsureModel(name, null), new LlamaModelOptions { VocabularyOnly = true }).ConfigureAwait(false);
        LlamaTokenizer tokenizer = model.Tokenizer;
        int[] document = tokenizer.Tokenize(Document, addSpecial: false);
        float[] noise = new float[tokenizer.VocabularySize];
        var random = new Random(1);
        for (int i = 0; i < noise.Length; i++)
        {
            noise[i] = (float)(random.NextDouble() * 10.0);
        }

        LlamaSamplingOptions plain = LlamaSamplingOptions.Default with { Seed = 7 };
        LlamaSamplingOptions json = LlamaSampling.Create(plain).Grammar(JsonGrammar.Object).Build();
        Console.WriteLine($"Sampling with the JSON grammar: {name} vocabulary ({tokenizer.VocabularySize} tokens), default chain, {document.Length}-token document, median of {reps}");
        double none = Median(reps, () => Run(document, noise, sampleAndAccept: plain.CreateNativeSampler(tokenizer)));
        double before = Median(reps, () => RunGrammarFirst(document, noise, json, tokenizer));
        double now = Median(reps, () => Run(document, noise, sampleAndAccept: json.CreateNativeSampler(tokenizer)));
        Console.WriteLine($"  chain, no grammar                       {none,9:F0} µs/token");
        Console.WriteLine($"  grammar on every candidate (before)     {before,9:F0} µs/token");
        Console.WriteLine($"  grammar checks the chosen token (now)   {now,9:F0} µs/token   {before / now:F1}x faster than before");
        return 0;
    }

    private static double Run(int[] document, float[] noise, NativeSampler sampleAndAccept)
    {
        using NativeSampler sampler = sampleAndAccept;
        float[] logits = new float[noise.Length];
        long start = Stopwatch.GetTimestamp();
        foreach (int token in document)
        {
            Peak(noise, logits, token);
            Check(sampler.SampleAndAccept(logits), token);
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / document.Length;
    }

    private static unsafe double RunGrammarFirst(int[] document, float[] noise, LlamaSamplingOptions options, LlamaTokenizer tokenizer)
    {
        using SafeLlamaSamplerHandle chain = options.CreateNativeChain(tokenizer);
        using SafeLlamaSamplerHandle grammar = SafeLlamaSamplerHandle.CreateGrammar(tokenizer.Vocabulary, options.Grammar!, options.GrammarRoot);
        float[] logits = new float[noise.Length];
        var candidates = new llama_token_data[noise.Length];
        long start = Stopwatch.GetTimestamp();
        foreach (int token in document)
        {
            Peak(noise, logits, token);
            for (int id = 0; id < logits.Length; id++)
            {
                candidates[id] = new llama_token_data { id = id, logit = logits[id], p = 0f };
            }

            fixed (llama_token_data* data = candidates)
            {
                var array = new llama_token_data_array { data = data, size = (nuint)candidates.Length, selected = -1, sorted = 0 };
                NativeMethods.llama_sampler_apply(grammar, &array);
                NativeMethods.llama_sampler_apply(chain, &array);
                int selected = array.data[array.selected].id;
                NativeMethods.llama_sampler_accept(grammar, selected);
                NativeMethods.llama_sampler_accept(chain, selected);
                Check(selected, token);
            }
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / document.Length;
    }

    private static void Peak(float[] noise, float[] logits, int token)
    {
        noise.CopyTo(logits, 0);
        logits[token] = 40f;
    }

    private static void Check(int sampled, int expected)
    {
        if (sampled != expected)
        {
            throw new InvalidOperationException($"sampled token {sampled} where the document has {expected}: the variants would not be comparable");
        }
    }

    private static double Median(int reps, Func<double> run)
    {
        run(); // warm-up
        return Statistics.Median(Enumerable.Range(0, reps).Select(_ => run()).ToList());
    }

}
