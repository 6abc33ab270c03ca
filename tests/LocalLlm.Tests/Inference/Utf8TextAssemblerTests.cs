using System.Text;
using LocalLlm.Tests.Models;

namespace LocalLlm.Tests.Inference;

public sealed class Utf8TextAssemblerTests : VocabularyModelFixture
{
    [TestCase("🦙🚀👩‍👩‍👧‍👦")]
    [TestCase("𠜎𠜱𠝹𠱓 and 日本語のテキスト")]
    [TestCase("naïve café — ½ ∑ ≠")]
    public void TokenPiecesOfMultiByteText_AreNeverEmittedHalfWay(string text)
    {
        int[] tokens = Model.Tokenizer.Tokenize(text, addSpecial: false);
        var assembler = new Utf8TextAssembler();
        var emitted = new List<string>();
        int splitCharacters = 0;

        foreach (int token in tokens)
        {
            byte[] piece = Model.Tokenizer.GetTokenBytes(token);
            if (!IsCompleteUtf8(piece))
            {
                splitCharacters++;
            }

            emitted.Add(new string(assembler.Append(piece)));
        }

        emitted.Add(new string(assembler.Flush()));

        Assert.That(splitCharacters, Is.GreaterThan(0), "the text must contain characters split across tokens for this test to prove anything");
        Assert.That(string.Concat(emitted), Is.EqualTo(text));
        Assert.That(emitted.Where(chunk => chunk.Contains('\uFFFD') || HasLoneSurrogate(chunk)), Is.Empty);
    }

    [Test]
    public void Flush_WithAnUnfinishedCharacter_GivesTheReplacementCharacter()
    {
        var assembler = new Utf8TextAssembler();
        byte[] llama = Encoding.UTF8.GetBytes("🦙");

        Assert.That(assembler.Append(llama.AsSpan(0, 2)).ToString(), Is.Empty);
        Assert.That(assembler.Flush().ToString(), Is.EqualTo("\uFFFD"));
    }

    private static bool IsCompleteUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return true;
                }

                i++;
            }
            else if (char.IsLowSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
