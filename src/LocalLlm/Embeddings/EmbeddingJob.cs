namespace LocalLlm;

/// <summary>One <see cref="LlamaEmbeddingGenerator.GenerateAsync"/> call waiting for the generator's worker.</summary>
internal sealed class EmbeddingJob(int[][] inputs, CancellationToken cancellationToken)
{
    public int[][] Inputs { get; } = inputs;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public TaskCompletionSource<float[][]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Embeds every job queued so far in shared decode calls, so that concurrent requests cost one decode instead of
    /// one each. A cancelled job leaves at once and its remaining inputs are skipped; a decode in progress is aborted
    /// only when every job in it was cancelled, or when <paramref name="disposal"/> fires: then every job not yet done
    /// fails with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public static void RunTogether(IReadOnlyList<EmbeddingJob> queued, EmbeddingContext context, CancellationToken disposal)
    {
        if (disposal.IsCancellationRequested)
        {
            foreach (EmbeddingJob job in queued)
            {
                job.Result.TrySetException(Disposed());
            }

            return;
        }

        var jobs = new List<EmbeddingJob>(queued.Count);
        foreach (EmbeddingJob job in queued)
        {
            if (job.CancellationToken.IsCancellationRequested)
            {
                job.Result.TrySetCanceled(job.CancellationToken);
            }
            else
            {
                jobs.Add(job);
            }
        }

        if (jobs.Count == 0)
        {
            return;
        }

        using var allCancelled = new CancellationTokenSource();
        int live = jobs.Count;
        var registrations = jobs.Select(job => job.CancellationToken.UnsafeRegister(_ =>
        {
            job.Result.TrySetCanceled(job.CancellationToken);
            if (Interlocked.Decrement(ref live) == 0)
            {
                context.Abort.Abort = true;
                allCancelled.Cancel();
            }
        }, null)).ToArray();
        using CancellationTokenRegistration disposing = disposal.UnsafeRegister(_ =>
        {
            context.Abort.Abort = true;
            allCancelled.Cancel();
        }, null);
        try
        {
            EmbeddingJob[] owners = [.. jobs.SelectMany(job => Enumerable.Repeat(job, job.Inputs.Length))];
            float[]?[] vectors = context.Embed([.. jobs.SelectMany(job => job.Inputs)], allCancelled.Token, skip: input => owners[input].CancellationToken.IsCancellationRequested);
            int offset = 0;
            foreach (EmbeddingJob job in jobs)
            {
                if (!job.CancellationToken.IsCancellationRequested)
                {
                    // Inputs are skipped only for cancelled jobs, so a live job has every vector.
                    job.Result.TrySetResult([.. vectors.Skip(offset).Take(job.Inputs.Length).Select(vector => vector!)]);
                }

                offset += job.Inputs.Length;
            }
        }
        catch (Exception ex)
        {
            // A failed decode fails every request that shared it (those in later decodes of this run too); the cancelled
            // ones are completed as cancelled below.
            foreach (EmbeddingJob job in jobs.Where(job => !job.CancellationToken.IsCancellationRequested))
            {
                job.Result.TrySetException(disposal.IsCancellationRequested ? Disposed() : ex);
            }
        }
        finally
        {
            foreach (CancellationTokenRegistration registration in registrations)
            {
                registration.Dispose();
            }

            context.Abort.Abort = disposal.IsCancellationRequested;

            // Not only in the callbacks: a registration disposed before its callback ran never runs it.
            foreach (EmbeddingJob job in jobs)
            {
                if (job.CancellationToken.IsCancellationRequested)
                {
                    job.Result.TrySetCanceled(job.CancellationToken);
                }
            }
        }
    }

    private static ObjectDisposedException Disposed() =>
        new(nameof(LlamaEmbeddingGenerator), "The embedding generator was disposed while the request was in progress.");
}
