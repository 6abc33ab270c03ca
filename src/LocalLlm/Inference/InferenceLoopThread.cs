using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace LocalLlm;

/// <summary>
/// The thread an <see cref="InferenceEngine"/>'s loop runs on, and the hand-off of updates to the callers.
/// </summary>
/// <remarks>
/// Callers' loop bodies run inline on the loop thread between decode steps, as in a native loop: handing each token
/// to a thread-pool thread instead cost up to a quarter of a single stream's throughput on a machine whose cores all
/// decode, because the pool's threads spin for work beside llama.cpp's.
/// A body that holds the thread longer than the stall limit (it blocks, or waits synchronously on another stream)
/// must not stall or deadlock the other streams: a watchdog then moves the loop to a fresh thread, which goes on
/// from the next undelivered update. The old thread finishes the caller's body and ends without touching the loop's
/// state again. Only the thread that owns the loop may touch the context and the admitted requests.
/// </remarks>
internal sealed class InferenceLoopThread
{
    private readonly object _gate = new();
    private readonly List<Delivery> _pending = [];
    private readonly Action _loop;
    private readonly string _name;
    private readonly TimeSpan _stallLimit;
    private readonly Action<TimeSpan, bool> _onStalled;
    private readonly Func<object?, bool> _othersWaiting;
    private Thread _owner;
    private bool _busy = true;
    private bool _ended;
    private bool _freeOnExit;
    private int _next;
    private long _bodySince;
    private object? _bodyOwner;
    private bool _bodyReported;

    /// <param name="name">The threads' name.</param>
    /// <param name="loop">The engine's loop; it returns when <see cref="Deliver"/> says the thread lost the loop, or at shutdown.</param>
    /// <param name="stallLimit">How long one delivery may hold the loop thread before the loop moves on without it.</param>
    /// <param name="onStalled">Told, once per blocking body, how long it had held the thread and whether the loop moved away from it.</param>
    /// <param name="othersWaiting">Given the owner of the update whose body blocks, whether anything else waits for the loop; only then does the loop move.</param>
    public InferenceLoopThread(string name, Action loop, TimeSpan stallLimit, Action<TimeSpan, bool> onStalled, Func<object?, bool> othersWaiting)
    {
        _othersWaiting = othersWaiting;
        _name = name;
        _loop = loop;
        _stallLimit = stallLimit;
        _onStalled = onStalled;
        _owner = new Thread(() => _loop()) { IsBackground = true, Name = name };
    }

    /// <summary>Gets how many times the loop moved to a fresh thread.</summary>
    public int Moves { get; private set; }

    /// <summary>Gets a value indicating whether the loop's last owner must free the native resources as it exits.</summary>
    public bool FreeOnExit
    {
        get
        {
            lock (_gate)
            {
                return _freeOnExit;
            }
        }
    }

    /// <summary>Gets a value indicating whether the calling thread is the one running the loop now.</summary>
    public bool IsCurrentThread
    {
        get
        {
            lock (_gate)
            {
                return _owner == Thread.CurrentThread;
            }
        }
    }

    /// <summary>
    /// Called from a caller's loop body that wants the engine disposed: on the loop's thread, the loop cannot be
    /// joined, so its owner frees the native resources as it exits; returns false on any other thread (including one
    /// the loop has just moved away from), which then joins the loop instead.
    /// </summary>
    public bool TryFreeOnExit()
    {
        lock (_gate)
        {
            if (_owner != Thread.CurrentThread)
            {
                return false;
            }

            _freeOnExit = true;
            return true;
        }
    }

    public void Start()
    {
        _owner.Start();
        new Thread(Watch) { IsBackground = true, Name = $"{_name} watchdog" }.Start();
    }

    /// <summary>Queues an update (and, when <paramref name="complete"/>, the end of the stream) for <see cref="Deliver"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Enqueue(object owner, ChannelWriter<LlamaGenerationUpdate> writer, LlamaGenerationUpdate? update, bool complete = false, Exception? error = null) =>
        _pending.Add(new Delivery(owner, writer, update, complete, error));

    /// <summary>
    /// Hands the queued updates to their callers, whose loop bodies may run inline here. Returns false when a body
    /// held this thread so long that the loop moved to another thread: the caller must then return at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Deliver()
    {
        while (true)
        {
            Delivery delivery;
            lock (_gate)
            {
                if (_owner != Thread.CurrentThread)
                {
                    return false;
                }

                if (_next == _pending.Count)
                {
                    _pending.Clear();
                    _next = 0;
                    _bodySince = 0;
                    return true;
                }

                delivery = _pending[_next++];
                _bodySince = Stopwatch.GetTimestamp();
                _bodyOwner = delivery.Owner;
                _bodyReported = false;
            }

            delivery.Apply();
        }
    }

    /// <summary>The loop has requests to run: the watchdog keeps watch.</summary>
    public void Busy() => Signal(ref _busy);

    /// <summary>The loop is about to wait for requests: the watchdog sleeps until it is busy again.</summary>
    public void Idle()
    {
        lock (_gate)
        {
            _busy = false;
        }
    }

    /// <summary>Called by the loop's last owner as it exits: the watchdog stops.</summary>
    public void End() => Signal(ref _ended);

    /// <summary>
    /// Waits until the loop's last owner has run the exit path. Threads the loop moved away from may still be running
    /// callers' code, but never touch the loop's state again, so waiting for them is neither needed nor safe (one may
    /// be waiting for the caller of this method).
    /// </summary>
    public void Join()
    {
        lock (_gate)
        {
            while (!_ended)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    private void Signal(ref bool flag)
    {
        lock (_gate)
        {
            flag = true;
            Monitor.PulseAll(_gate);
        }
    }

    private void Watch()
    {
        while (true)
        {
            TimeSpan held;
            Thread? next = null;
            lock (_gate)
            {
                // Monitor.Wait gives the lock up while it sleeps, so deliveries go on meanwhile.
                while (!_busy && !_ended)
                {
                    Monitor.Wait(_gate);
                }

                // Waking once per limit (a body moves after one to two limits) keeps the watchdog off the cores
                // that decode: more frequent wake-ups measurably slow decoding where all cores are in use.
                if (_ended || Monitor.Wait(_gate, _stallLimit) && _ended)
                {
                    return;
                }

                held = _bodySince == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_bodySince);
                if (held < _stallLimit)
                {
                    continue;
                }

                // Moving when nothing else waits gains nothing and costs much: llama.cpp then decodes on a fresh
                // thread while the old one winds down, and on two cores the next run measured several times slower.
                // The stall is reported once either way.
                if (_othersWaiting(_bodyOwner))
                {
                    _bodySince = 0;
                    Moves++;
                    next = new Thread(ContinueLoop) { IsBackground = true, Name = _name };
                    _owner = next;
                }
                else if (_bodyReported)
                {
                    continue;
                }

                _bodyReported = true;
            }

            try
            {
                _onStalled(held, next is not null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A throwing logger must not end the process from this thread.
                Trace.TraceError($"LocalLlm inference loop: logging a stall failed: {ex}");
            }

            next?.Start();
        }
    }

    private void ContinueLoop()
    {
        if (Deliver())
        {
            _loop();
        }
    }

    private readonly record struct Delivery(object Owner, ChannelWriter<LlamaGenerationUpdate> Writer, LlamaGenerationUpdate? Update, bool Complete, Exception? Error)
    {
        public void Apply()
        {
            try
            {
                if (Update is not null)
                {
                    Writer.TryWrite(Update);
                }

                if (Complete)
                {
                    Writer.TryComplete(Error);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A caller's continuation threw on this thread; it is the caller's failure, not the other streams'.
                Trace.TraceError($"LocalLlm inference loop: a caller's continuation threw: {ex}");
            }
        }
    }
}
