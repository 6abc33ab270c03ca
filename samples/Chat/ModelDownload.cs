using LocalLlm;
using Spectre.Console;

/// <summary>Fetches an <c>hf:</c> or <c>https://</c> model into the Hugging Face cache under a live progress bar.</summary>
internal static class ModelDownload
{
    public static async Task<string> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        using var downloader = new LlamaModelDownloader();
        LlamaModelResolution? resolution = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new Progress<LlamaDownloadProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.FileName, out ProgressTask? task))
                    {
                        tasks[p.FileName] = task = context.AddTask(Markup.Escape(p.FileName), maxValue: p.TotalBytes ?? 1);
                    }

                    task.MaxValue = p.TotalBytes ?? Math.Max(task.MaxValue, p.BytesReceived);
                    task.Value = p.BytesReceived;
                });
                resolution = await downloader.ResolveAsync(reference, progress, cancellationToken);
            });

        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(reference)} → {Markup.Escape(resolution!.ModelPath)}{(resolution.BytesDownloaded == 0 ? " (cached)" : string.Empty)}[/]");
        return resolution.ModelPath;
    }
}
