using System.Diagnostics;
using System.Globalization;
using LocalLlm.ModelGenerator;
using LocalLlm.Native;

namespace LocalLlm.Benchmarks;

/// <summary>
/// Reranking throughput: <see cref="LlamaReranker"/> against a raw batched loop over the same native calls (the same
/// query-document tokens, 16 pairs per <c>llama_encode</c>, each pair's score read with <c>llama_get_embeddings_seq</c>),
/// on the generated reranker, interleaved, in one process.
///   dotnet tests/LocalLlm.Benchmarks/bin/Release/net10.0/LocalLlm.Benchmarks.dll --rerank [--documents 256] [--reps 5] [--threads 2]
/// </summary>
internal static class RerankBenchmark
{
    private const int PairsPerDecode = 16;
    private const int ContextSize = 1024;
    private const string Query = "What do llamas eat, and how much of it each day?";

    public static async Task<int> RunAsync(string[] args)
    {
        int documentCount = int.Parse(BenchmarkSettings.Option(args, "--documents", "256"), CultureInfo.InvariantCulture);
        int reps = int.Parse(BenchmarkSettings.Option(args, "--reps", "5"), CultureInfo.InvariantCulture);
        int threads = int.Parse(BenchmarkSettings.Option(args, "--threads", "2"), CultureInfo.InvariantCulture);
        LlamaBackend.Initialize();
        using LlamaModel model = await LlamaModel.LoadAsync(GeneratedModels.Ensure(ModelShape.Reranker)).ConfigureAwait(false);
        string[] documents = [.. Enumerable.Range(0, documentCount).Select(i => $"Document {i}: llamas graze on grass and hay, and a grown llama eats about {i % 7 + 1} kilograms a day in the high plateau's dry season.")];
        int[][] pairs = [.. documents.Select(d => RerankPrompt.Tokenize(model, Query, d))];
        Console.WriteLine($"Reranking: the generated reranker ({model.Metadata.EmbeddingSize} wide, {model.Metadata.LayerCount} layers), {documentCount} documents of {pairs.Average(p => p.Length):F0} tokens per pair, {PairsPerDecode} pairs per decode, {threads} threads, median of {reps}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        using var reranker = new LlamaReranker(model, new LlamaRerankerOptions { ContextSize = ContextSize, MaxSequencesPerBatch = PairsPerDecode, ThreadCount = threads });
        using var raw = new RawReranker(model, threads);
        await reranker.RerankAsync(Query, documents).ConfigureAwait(false);
        raw.Score(pairs);
        var sdk = new List<double>();
        var native = new List<double>();
        float maxDifference = 0;
        for (int rep = 0; rep < reps; rep++)
        {
            long start = Stopwatch.GetTimestamp();
            IReadOnlyList<LlamaRerankResult> ranked = await reranker.RerankAsync(Query, documents).ConfigureAwait(false);
            sdk.Add(documentCount / Stopwatch.GetElapsedTime(start).TotalSeconds);
            start = Stopwatch.GetTimestamp();
            float[] scores = raw.Score([.. documents.Select(d => RerankPrompt.Tokenize(model, Query, d))]); // tokenized in the timing, as the SDK's call does
            native.Add(documentCount / Stopwatch.GetElapsedTime(start).TotalSeconds);
            maxDifference = Math.Max(maxDifference, ranked.Max(r => Math.Abs(r.Score - scores[r.Index])));
        }

        double sdkRate = sdk.Order().ElementAt(reps / 2);
        double rawRate = native.Order().ElementAt(reps / 2);
        Console.WriteLine($"{"side",-10} | {"documents/s",12}");
        Console.WriteLine($"{"SDK",-10} | {sdkRate,12:F0}");
        Console.WriteLine($"{"raw",-10} | {rawRate,12:F0}");
        Console.WriteLine($"SDK / raw: {sdkRate / rawRate:F3}; largest score difference {maxDifference:G3}");
        return 0;
    }

    /// <summary>The loop with nothing of the SDK's but the batch struct: clear, fill 16 pairs, encode, read each score.</summary>
    private sealed unsafe class RawReranker : IDisposable
    {
        private readonly SafeLlamaContextHandle _context;
        private readonly NativeBatch _batch = new(ContextSize);

        public RawReranker(LlamaModel model, int threads)
        {
            llama_context_params parameters = NativeMethods.llama_context_default_params();
            parameters.n_ctx = ContextSize;
            parameters.n_batch = ContextSize;
            parameters.n_ubatch = ContextSize;
            parameters.n_seq_max = PairsPerDecode;
            parameters.n_threads = threads;
            parameters.n_threads_batch = threads;
            parameters.embeddings = 1;
            parameters.pooling_type = llama_pooling_type.LLAMA_POOLING_TYPE_RANK;
            parameters.kv_unified = 1;
            _context = SafeLlamaContextHandle.Create(model.Handle, parameters);
        }

        public float[] Score(int[][] pairs)
        {
            float[] scores = new float[pairs.Length];
            for (int first = 0; first < pairs.Length; first += PairsPerDecode)
            {
                int count = Math.Min(PairsPerDecode, pairs.Length - first);
                _batch.Clear();
                for (int sequence = 0; sequence < count; sequence++)
                {
                    int[] tokens = pairs[first + sequence];
                    for (int position = 0; position < tokens.Length; position++)
                    {
                        _batch.Add(tokens[position], position, sequence, output: true);
                    }
                }

                NativeMethods.llama_memory_clear(NativeMethods.llama_get_memory(_context), true);
                if (NativeMethods.llama_encode(_context, _batch.Native) != 0)
                {
                    throw new LlamaException("llama_encode failed");
                }

                for (int sequence = 0; sequence < count; sequence++)
                {
                    scores[first + sequence] = NativeMethods.llama_get_embeddings_seq(_context, sequence)[0];
                }
            }

            return scores;
        }

        public void Dispose()
        {
            _batch.Dispose();
            _context.Dispose();
        }
    }
}
