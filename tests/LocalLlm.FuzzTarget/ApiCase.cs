using System.Globalization;

namespace LocalLlm.FuzzTarget;

/// <summary>
/// One careless or hostile use of the public API, drawn from a seed: context options, a sampler chain built with
/// out-of-range and non-finite values, generation options, grammars and prompts. LocalLlm must run it or refuse it with
/// an exception that names the setting; it must not crash, hang or throw anything else.
/// </summary>
internal static class ApiCase
{
    private static readonly float[] Floats = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1f, 0f, 1e-30f, 0.1f, 0.5f, 1f, 1.5f, 2f, 1e30f, float.MaxValue];
    private static readonly int[] Integers = [int.MinValue, -1, 0, 1, 2, 3, 64, 1_000, 1_000_000_000, int.MaxValue];
    private static readonly string[] Texts = ["", "\0", "\uD83E", "a", "Hello, llama", "🦙🦙", "<|endoftext|>", "</s>", "\n\n", new string('a', 3_000), "\u00ff\u0300"];
    private static readonly string[] Grammars =
    [
        "root ::= [0-9]+", "root ::= \"a\"{2,3}", "root ::= \"a\"{3,2}", "root ::= x", "root ::= (\"a\" | \"b\")* \"c\"",
        "root ::= [^\"]*", "root ::= [^\\x00-\\U0010FFFF]", "root ::= \"\"", "root ::=", "root ::= [\\x00]", "root ::= \"🦙\"",
        "root ::= \"a\"{0,100001}", "root ::= " + new string('(', 2_000) + "\"a\"" + new string(')', 2_000), "root ::= [z-a]",
    ];

    /// <summary>Describes the case for a seed (the parent's report names it).</summary>
    public static string Describe(int seed) => $"API case {seed.ToString(CultureInfo.InvariantCulture)}";

    public static async Task RunAsync(string modelPath, int seed)
    {
        var random = new Random(seed);
        var context = new LlamaContextOptions
        {
            ContextSize = Pick(random, new int?[] { null, 8, 16, 64, 256, 4096, 1 << 25 }),
            BatchSize = Pick(random, new[] { 2048, 0, 1, 7, -1 }),
            MicroBatchSize = Pick(random, new[] { 512, 0, 1, 3, 4096 }),
            ThreadCount = Pick(random, new int?[] { 1, null, 0, -1, 2, 5_000 }),
            KeyCacheType = random.Next(8) == 0 ? (LlamaKvCacheType)random.Next(-2, 40) : LlamaKvCacheType.F16,
            OverflowPolicy = random.Next(8) == 0 ? (LlamaContextOverflowPolicy)random.Next(-2, 5) : LlamaContextOverflowPolicy.Shift,
            ShiftKeepTokens = Pick(random, new[] { 0, 0, -1, 4, 1_000_000 }),
            Seed = (uint)random.Next(),
        };
        LlamaSamplingBuilder builder = LlamaSampling.Create(random.Next(2) == 0 ? LlamaSamplingOptions.Greedy : LlamaSamplingOptions.Default);
        for (int i = random.Next(5); i > 0; i--)
        {
            builder = AddSampler(builder, random);
        }

        var generation = new LlamaGenerationOptions
        {
            MaxTokens = Pick(random, new int?[] { 4, 1, 0, -1, 16, null }),
            StopStrings = random.Next(3) == 0 ? [Pick(random, Texts)] : [],
            Sampling = builder.Build(),
            TopLogProbabilities = Pick(random, new[] { 0, 0, 1, 5, -1, 1_000_000 }),
            LogProbabilities = random.Next(2) == 0,
            TruncatePrompt = random.Next(2) == 0,
            AddSpecialTokens = random.Next(2) == 0,
            ParseSpecialTokens = random.Next(2) == 0,
        };

        using LlamaModel model = await LlamaModel.LoadAsync(modelPath);
        using var session = new LlamaSession(model, context);
        await session.CompleteAsync(Pick(random, Texts), generation);
    }

    private static LlamaSamplingBuilder AddSampler(LlamaSamplingBuilder builder, Random random) => random.Next(16) switch
    {
        0 => builder.Temperature(Pick(random, Floats)),
        1 => builder.DynamicTemperature(Pick(random, Floats), Pick(random, Floats)),
        2 => builder.TopK(Pick(random, Integers)),
        3 => builder.TopP(Pick(random, Floats)),
        4 => builder.MinP(Pick(random, Floats)),
        5 => builder.TypicalP(Pick(random, Floats)),
        6 => builder.MinKeep(Pick(random, Integers)),
        7 => builder.TopNSigma(Pick(random, Floats)),
        8 => builder.Xtc(Pick(random, Floats), Pick(random, Floats)),
        9 => builder.Dry(Pick(random, Floats), Pick(random, Floats), Pick(random, Integers), Pick(random, Integers), random.Next(2) == 0 ? null : [Pick(random, Texts)]),
        10 => builder.RepetitionPenalty(Pick(random, Floats), Pick(random, new int?[] { null, -1, 0, 64, int.MaxValue })),
        11 => builder.FrequencyPenalty(Pick(random, Floats)).PresencePenalty(Pick(random, Floats)),
        12 => builder.Mirostat((LlamaMirostatVersion)random.Next(-1, 4), Pick(random, Floats), Pick(random, Floats)),
        13 => builder.AdaptiveP(Pick(random, Floats), Pick(random, Floats)),
        14 => builder.LogitBias(Pick(random, Integers), Pick(random, Floats)),
        _ => builder.Grammar(Pick(random, Grammars), random.Next(6) == 0 ? Pick(random, Texts) : "root"),
    };

    private static T Pick<T>(Random random, IReadOnlyList<T> values) => values[random.Next(values.Count)];
}
