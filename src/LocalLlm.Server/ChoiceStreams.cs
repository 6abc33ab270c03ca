using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace LocalLlm.Server;

/// <summary>Runs the streams of a request's choices (<c>n</c>, or one per prompt) side by side as one stream.</summary>
internal static class ChoiceStreams
{
    /// <summary>
    /// Yields each choice's items as they come, tagged with the choice. A failure in any choice ends the enumeration
    /// with that failure; ending it early, or a failure, stops the other choices (freeing their sequences) and waits for them.
    /// </summary>
    public static async IAsyncEnumerable<(int Choice, T Item)> MergeAsync<T>(
        int count,
        Func<int, CancellationToken, IAsyncEnumerable<T>> stream,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = Channel.CreateUnbounded<(int Choice, T? Item, Exception? Error)>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] pumps = [.. Enumerable.Range(0, count).Select(choice => PumpAsync(choice, stream, events.Writer, stop.Token))];
        _ = Task.WhenAll(pumps).ContinueWith(_ => events.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        try
        {
            await foreach ((int choice, T? item, Exception? error) in events.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (error is not null)
                {
                    ExceptionDispatchInfo.Throw(error);
                }

                yield return (choice, item!);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(pumps).ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync<T>(int choice, Func<int, CancellationToken, IAsyncEnumerable<T>> stream, ChannelWriter<(int, T?, Exception?)> events, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (T item in stream(choice, cancellationToken).ConfigureAwait(false))
            {
                events.TryWrite((choice, item, null));
            }
        }
        catch (Exception ex)
        {
            events.TryWrite((choice, default, ex));
        }
    }
}
