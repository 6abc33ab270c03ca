using System.Diagnostics;

namespace LocalLlm.Tests.Inference;

/// <summary>Decodes use fewer threads while other processes keep cores busy, and all of them again once they stop.</summary>
public sealed class ThreadBudgetTests : TinyModelFixture
{
    [TestCase(2, 0.0, 2)]
    [TestCase(2, 0.2, 2)]
    [TestCase(2, 0.6, 1)]
    [TestCase(2, 1.0, 1)]
    [TestCase(2, 3.0, 1)]
    [TestCase(16, 1.0, 15)]
    public void ACoreAnotherProcessKeepsAQuarterBusy_IsNotFree(int cores, double otherProcessesCores, int free) =>
        Assert.That(ThreadBudget.FreeCores(cores, otherProcessesCores), Is.EqualTo(free));

    [Test]
    public void TheBudget_DropsAtOnce_AndRisesOnlyAfterTwoCalmLooks()
    {
        var budget = new ThreadBudget(threads: 4, batchThreads: 8);

        Assert.That(budget.Apply(2), Is.True);
        Assert.That((budget.Threads, budget.BatchThreads), Is.EqualTo((2, 2)));
        Assert.That(budget.Apply(16), Is.False, "one calm look");
        Assert.That(budget.Apply(16), Is.True, "two calm looks");
        Assert.That((budget.Threads, budget.BatchThreads), Is.EqualTo((4, 8)), "never more than configured");
        Assert.That(budget.Apply(16), Is.False, "nothing changed");
        Assert.That(budget.Apply(3), Is.True, "a drop needs no second look");
        Assert.That((budget.Threads, budget.BatchThreads), Is.EqualTo((3, 3)));
    }

    [Test]
    public async Task AProcessSpinningOnACore_TakesOneThreadFromTheSession_UntilItStops()
    {
        Assume.That(OperatingSystem.IsLinux() && Environment.ProcessorCount >= 2, "the budget reads /proc; one core has no thread to give");
        int cores = Environment.ProcessorCount;
        var look = new ThreadBudget(cores, cores);
        look.Update();
        await Task.Delay(300);
        look.Update();
        Assume.That(look.OtherProcessesCores, Is.LessThan(0.25), "the machine must be quiet for the budget to rise again");
        using LlamaSession session = new(Model, new LlamaContextOptions { ContextSize = 4096, ThreadCount = cores });
        Assert.That(session.DecodeThreadCount, Is.EqualTo(cores));

        var spin = new ProcessStartInfo("sh") { ArgumentList = { "-c", "while :; do :; done" } };
        using (Process competitor = Process.Start(spin)!)
        {
            try
            {
                await GenerateUntil(session, () => session.DecodeThreadCount < cores);
            }
            finally
            {
                competitor.Kill();
                await competitor.WaitForExitAsync();
            }
        }

        int whileBusy = session.DecodeThreadCount;
        await GenerateUntil(session, () => session.DecodeThreadCount == cores);

        Assert.That(whileBusy, Is.LessThan(cores), "a core was taken");
        Assert.That(session.DecodeThreadCount, Is.EqualTo(cores), "every thread again once the competitor stopped");
    }

    private static async Task GenerateUntil(LlamaSession session, Func<bool> condition)
    {
        var limit = Stopwatch.StartNew();
        while (!condition() && limit.Elapsed < TimeSpan.FromSeconds(8))
        {
            session.Reset();
            await session.CompleteAsync("The llama", Greedy(8));
        }
    }
}
