using System.Text.RegularExpressions;
using LocalLlm.Native;
using LocalLlm.Tests.Models;

namespace LocalLlm.Tests.Sampling;

/// <summary>GBNF grammars in the native chain: parse failures and the constraint itself.</summary>
public sealed partial class GrammarSamplingTests : VocabularyModelFixture
{
    private const string IntegerList = """root ::= "[" [0-9]+ ("," [0-9]+)* "]" """;

    // llama.cpp logs only "failed to parse grammar" for syntax errors and undefined rules; their detail goes to stderr.
    [TestCase("root ::= [0-9", "root", "failed to parse grammar")]
    [TestCase("root ::= number", "root", "failed to parse grammar")]
    [TestCase("start ::= \"a\"", "root", "grammar does not contain a 'root' symbol")]
    [TestCase("root ::= \"a\"", "start", "grammar does not contain a 'start' symbol")]
    public void InvalidGrammar_ThrowsArgumentException_NamingTheProblem(string grammar, string root, string problem)
    {
        LlamaSamplingOptions options = LlamaSampling.Create().Grammar(grammar, root).Build();

        ArgumentException? exception = Assert.Throws<ArgumentException>(() => options.CreateNativeChain(Model.Tokenizer));

        Assert.That(exception!.Message, Does.StartWith($"The GBNF grammar (root rule '{root}') is invalid:").And.Contain(problem));
    }

    [Test]
    public void Grammar_WithAnotherRoot_Parses()
    {
        LlamaSamplingOptions options = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar("start ::= \"a\"", root: "start").Build();

        using SafeLlamaSamplerHandle chain = options.CreateNativeChain(Model.Tokenizer);

        Assert.That(SamplerChainProbe.Names(chain), Is.EqualTo(new[] { "grammar", "greedy" }));
    }

    [TestCase(1u)]
    [TestCase(2u)]
    [TestCase(3u)]
    public void Grammar_ConstrainsEverySelectedToken(uint seed)
    {
        LlamaSamplingOptions options = LlamaSampling.Create().Grammar(IntegerList).Seed(seed).Build();
        using SafeLlamaSamplerHandle chain = options.CreateNativeChain(Model.Tokenizer);
        float[] equal = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f);
        List<int> tokens = [];

        for (int step = 0; step < 30; step++)
        {
            int token = SamplerChainProbe.SelectAndAccept(chain, equal);
            if (Model.Tokenizer.IsEndOfGeneration(token))
            {
                break;
            }

            tokens.Add(token);
        }

        string text = Model.Tokenizer.Detokenize([.. tokens]);
        TestContext.Out.WriteLine(text);
        Assert.That(text, Does.Match(IntegerListPrefix()), $"'{text}' is not the start of an integer list");
        Assert.That(text, Does.StartWith("["));
    }

    [Test]
    public void Grammar_WithTheHighestLogitOnAForbiddenToken_SelectsAnAllowedOne()
    {
        int letter = Model.Tokenizer.Tokenize("hello", addSpecial: false).Single();
        float[] logits = SamplerChainProbe.Logits(Model.Tokenizer.VocabularySize, 0f, (letter, 50f));
        using SafeLlamaSamplerHandle chain = LlamaSampling.Create(LlamaSamplingOptions.Greedy).Grammar(IntegerList).Build().CreateNativeChain(Model.Tokenizer);

        int token = SamplerChainProbe.Select(chain, logits);

        Assert.That(Model.Tokenizer.Detokenize([token]), Does.StartWith("["));
    }

    /// <summary>Any prefix of a string <see cref="IntegerList"/> accepts.</summary>
    [GeneratedRegex(@"^\[(\d+(,\d+)*(,|\])?)?$")]
    private static partial Regex IntegerListPrefix();
}
