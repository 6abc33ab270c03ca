using System.Collections.Concurrent;

namespace LocalLlm;

/// <summary>
/// The dedicated thread an embedding context's native work runs on: llama_decode blocks for milliseconds to seconds,
/// so it never borrows a thread-pool thread, and only ever one piece of work runs at a time. (Generation has its own
/// loop, <see cref="InferenceEngine"/>: embedding batches are whole inputs, with no sampling and no KV cache kept.)
/// </summary>
internal sealed class InferenceWorker : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private Action? _afterLastWork;

    public InferenceWorker(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Queues work; it runs after everything queued before it.</summary>
    public void Post(Action work) => _work.Add(work);

    /// <summary>Stops accepting work and waits for queued work to finish.</summary>
    public void Dispose() => Dispose(afterLastWork: null);

    /// <summary>
    /// Stops accepting work; once queued work has finished, runs <paramref name="afterLastWork"/> (freeing what the work
    /// used). Called from the worker itself (a continuation of the caller's may run there), it returns at once and the
    /// worker frees everything after the current work unwinds, instead of joining itself.
    /// </summary>
    public void Dispose(Action? afterLastWork)
    {
        if (_work.IsAddingCompleted)
        {
            return;
        }

        _afterLastWork = afterLastWork;
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    private void Run()
    {
        foreach (Action work in _work.GetConsumingEnumerable())
        {
            work();
        }

        _work.Dispose();
        _afterLastWork?.Invoke();
    }
}
