using System.Text.Unicode;
using LocalLlm.Native;

namespace LocalLlm.Tests.Native;

/// <summary>The byte-stream UTF-8 check the grammar path uses agrees with .NET's own validator.</summary>
public sealed class Utf8ProgressTests
{
    [TestCase(new byte[] { 0xC0, 0x80 }, TestName = "An overlong two-byte form")]
    [TestCase(new byte[] { 0xE0, 0x80, 0x80 }, TestName = "An overlong three-byte form")]
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 }, TestName = "A surrogate")]
    [TestCase(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, TestName = "Above U+10FFFF")]
    [TestCase(new byte[] { 0xFD, 0xB7, 0xB7, 0xB7 }, TestName = "A lead byte UTF-8 never uses")]
    [TestCase(new byte[] { 0x80 }, TestName = "A continuation byte with no lead")]
    [TestCase(new byte[] { 0xE2, 0x41 }, TestName = "A lead byte followed by a letter")]
    public void BytesThatAreNoUtf8_AreRefused(byte[] bytes) =>
        Assert.That(Utf8Progress.Start.TryAdvance(bytes, out _), Is.False);

    [Test]
    public void ACharacterSplitAcrossPieces_IsFollowed()
    {
        byte[] llama = "🦙"u8.ToArray();

        Assert.That(Utf8Progress.Start.TryAdvance(llama.AsSpan(0, 1), out Utf8Progress afterLead), Is.True);
        Assert.That(afterLead.Remaining, Is.EqualTo(3));
        Assert.That(afterLead.TryAdvance(llama.AsSpan(1), out Utf8Progress done), Is.True);
        Assert.That(done, Is.EqualTo(Utf8Progress.Start));
        Assert.That(afterLead.TryAdvance("a"u8, out _), Is.False);
    }

    [Test]
    public void OnRandomBytesInRandomPieces_ItAgreesWithTheRuntimesValidator()
    {
        var random = new Random(20261202);
        int valid = 0;
        for (int round = 0; round < 20_000; round++)
        {
            // Mostly real text with a few bytes changed, so that both answers occur often.
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, random.Next(1, 5)).Select(_ => new[] { "a", "é", "€", "🦙" }[random.Next(4)])));
            if (random.Next(2) == 0)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            Utf8Progress progress = Utf8Progress.Start;
            bool wellFormed = true;
            for (int at = 0; at < bytes.Length && wellFormed;)
            {
                int length = random.Next(1, bytes.Length - at + 1);
                wellFormed = progress.TryAdvance(bytes.AsSpan(at, length), out progress);
                at += length;
            }

            bool complete = wellFormed && progress == Utf8Progress.Start;
            valid += complete ? 1 : 0;
            Assert.That(complete, Is.EqualTo(Utf8.IsValid(bytes)), Convert.ToHexString(bytes));
        }

        Assert.That(valid, Is.InRange(5_000, 15_000), "both kinds were tried");
    }
}
