using System.Collections.Concurrent;

namespace LocalLlm;

/// <summary>
/// The dedicated thread a context's native work runs on: llama_decode blocks for milliseconds to seconds, so it
/// never borrows a thread-pool thread, and only ever one piece of work runs at a time.
/// </summary>
internal sealed class InferenceWorker : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public InferenceWorker(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Queues work; it runs after everything queued before it.</summary>
    public void Post(Action work) => _work.Add(work);

    /// <summary>Stops accepting work, lets queued work finish, and waits for the thread to end.</summary>
    public void Dispose()
    {
        if (!_work.IsAddingCompleted)
        {
            _work.CompleteAdding();
            if (Thread.CurrentThread != _thread)
            {
                _thread.Join();
            }

            _work.Dispose();
        }
    }

    private void Run()
    {
        foreach (Action work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
