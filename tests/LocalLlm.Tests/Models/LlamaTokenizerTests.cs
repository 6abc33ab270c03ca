namespace LocalLlm.Tests.Models;

public sealed class LlamaTokenizerTests : VocabularyModelFixture
{
    [TestCase("Hello, world! This is a plain ASCII sentence.")]
    [TestCase("Crème brûlée, naïve façade, Ærøskøbing, señor, Łódź")]
    [TestCase("日本語のテキストと中文文本，还有한국어")]
    [TestCase("Emoji: 🦙🚀👩‍👩‍👧‍👦 and flags 🇫🇷🇯🇵")]
    [TestCase("  leading spaces, tabs\tand\nnew lines\r\n")]
    public void TokenizeThenDetokenize_GivesTheTextBack(string text)
    {
        int[] tokens = Model.Tokenizer.Tokenize(text, addSpecial: false);

        Assert.That(tokens, Is.Not.Empty);
        Assert.That(Model.Tokenizer.Detokenize(tokens), Is.EqualTo(text));
    }

    [Test]
    public void Tokenize_WithAddSpecial_PrependsTheBeginningOfSequenceToken()
    {
        int[] plain = Model.Tokenizer.Tokenize("Hello", addSpecial: false);
        int[] special = Model.Tokenizer.Tokenize("Hello", addSpecial: true);

        Assert.That(Model.Tokenizer.AddsBeginningOfSequence, Is.True);
        Assert.That(special, Is.EqualTo(new[] { Model.Tokenizer.BeginningOfSequenceToken!.Value }.Concat(plain)));
    }

    [Test]
    public void Tokenize_WithParseSpecial_RecognisesSpecialTokensWrittenAsText()
    {
        int[] parsed = Model.Tokenizer.Tokenize("<|eot_id|>", addSpecial: false, parseSpecial: true);
        int[] literal = Model.Tokenizer.Tokenize("<|eot_id|>", addSpecial: false, parseSpecial: false);

        Assert.That(parsed, Is.EqualTo(new[] { 128009 }));
        Assert.That(literal, Has.Length.GreaterThan(1));
    }

    [Test]
    public void Tokenize_LongText_GrowsPastTheStackBuffers()
    {
        string text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 500));

        int[] tokens = Model.Tokenizer.Tokenize(text, addSpecial: false);

        Assert.That(tokens, Has.Length.GreaterThan(4000));
        Assert.That(Model.Tokenizer.Detokenize(tokens), Is.EqualTo(text));
    }

    [Test]
    public void Tokenize_EmptyText_GivesNoTokens()
    {
        Assert.That(Model.Tokenizer.Tokenize(string.Empty, addSpecial: false), Is.Empty);
    }

    [Test]
    public void GetTokenBytes_OfATokenHoldingPartOfACharacter_GivesTheRawBytes()
    {
        // A rare CJK character is split into byte-level tokens; their bytes concatenate to the UTF-8 encoding.
        string text = "𠜎";
        int[] tokens = Model.Tokenizer.Tokenize(text, addSpecial: false);

        byte[] bytes = tokens.SelectMany(t => Model.Tokenizer.GetTokenBytes(t)).ToArray();

        Assert.That(tokens, Has.Length.GreaterThan(1));
        Assert.That(bytes, Is.EqualTo(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    [Test]
    public void TryGetTokenBytes_IntoATooSmallBuffer_ReportsTheSizeNeeded()
    {
        int token = Model.Tokenizer.Tokenize(" extraordinary", addSpecial: false)[0];
        byte[] expected = Model.Tokenizer.GetTokenBytes(token);

        bool fitted = Model.Tokenizer.TryGetTokenBytes(token, new byte[1], out int needed);

        Assert.That(fitted, Is.False);
        Assert.That(needed, Is.EqualTo(expected.Length));
    }

    [Test]
    public void SpecialTokens_MatchTheLlama3Vocabulary()
    {
        LlamaTokenizer tokenizer = Model.Tokenizer;

        Assert.Multiple(() =>
        {
            Assert.That(tokenizer.VocabularySize, Is.EqualTo(128256));
            Assert.That(tokenizer.VocabularyType, Is.EqualTo(LlamaVocabularyType.BytePairEncoding));
            Assert.That(tokenizer.BeginningOfSequenceToken, Is.EqualTo(128000));
            Assert.That(tokenizer.GetTokenText(128000), Is.EqualTo("<|begin_of_text|>"));
            Assert.That(tokenizer.IsEndOfGeneration(tokenizer.EndOfSequenceToken!.Value), Is.True);
            Assert.That(tokenizer.IsControl(128000), Is.True);
            Assert.That(tokenizer.IsEndOfGeneration(tokenizer.Tokenize("Hi", addSpecial: false)[0]), Is.False);
        });
    }

    [Test]
    public void Detokenize_WithRenderSpecial_WritesSpecialTokensAsText()
    {
        int[] tokens = [128000, .. Model.Tokenizer.Tokenize("Hi", addSpecial: false)];

        Assert.That(Model.Tokenizer.Detokenize(tokens, renderSpecial: true), Is.EqualTo("<|begin_of_text|>Hi"));
        Assert.That(Model.Tokenizer.Detokenize(tokens, renderSpecial: false), Is.EqualTo("Hi"));
    }

    [TestCase(-1)]
    [TestCase(128256)]
    public void TokenOutsideTheVocabulary_ThrowsNamingTheId(int token)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Model.Tokenizer.GetTokenBytes(token));
        Assert.That(ex!.ParamName, Is.EqualTo("token"));
        Assert.That(ex.Message, Does.Contain(token.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var detokenize = Assert.Throws<ArgumentOutOfRangeException>(() => Model.Tokenizer.Detokenize([1, token]));
        Assert.That(detokenize!.ParamName, Is.EqualTo("tokens"));
    }
}
