using System.Diagnostics;
using System.Threading.Channels;
using LocalLlm.Native;

namespace LocalLlm;

public sealed partial class LlamaSession
{
    /// <summary>
    /// One completion, executed on the session's worker thread: evaluate the part of the prompt not already in the
    /// KV cache, then sample, detokenize and decode token by token, writing updates to a channel the caller reads.
    /// </summary>
    private sealed class GenerationRun
    {
        private readonly LlamaSession _session;
        private readonly int[] _prompt;
        private readonly LlamaGenerationOptions _options;
        private readonly CancellationToken _cancellationToken;
        // The caller's loop body runs on the worker between tokens, as in a plain native loop: waking a thread-pool
        // thread for every token instead costs a scheduler tick whenever llama.cpp's threads hold every core.
        private readonly Channel<LlamaGenerationUpdate> _updates =
            Channel.CreateUnbounded<LlamaGenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Action _throwIfCancelled;
        private volatile bool _stopRequested;

        public GenerationRun(LlamaSession session, int[] prompt, LlamaGenerationOptions options, CancellationToken cancellationToken)
        {
            _session = session;
            _prompt = prompt;
            _options = options;
            _cancellationToken = cancellationToken;
            _throwIfCancelled = ThrowIfCancelled; // one delegate for the run, not one per decoded token
        }

        public ChannelReader<LlamaGenerationUpdate> Updates => _updates.Reader;

        public Task Completion => _completion.Task;

        public LlamaFinishReason? FinishReason { get; private set; }

        public LlamaUsage? Usage { get; private set; }

        private bool Cancelled => _stopRequested || _cancellationToken.IsCancellationRequested || _session._disposed;

        public void Stop()
        {
            _stopRequested = true;
            _session._abort.Abort = true;
        }

        public void Execute()
        {
            _session._abort.Abort = _stopRequested;
            using CancellationTokenRegistration registration = _cancellationToken.UnsafeRegister(static state => ((GenerationRun)state!).Stop(), this);
            try
            {
                Run();
                _updates.Writer.TryComplete();
            }
            catch (OperationCanceledException ex)
            {
                FinishReason = LlamaFinishReason.Cancelled;
                _updates.Writer.TryComplete(ex);
            }
            catch (Exception ex)
            {
                _updates.Writer.TryComplete(ex);
            }
            finally
            {
                _session._abort.Abort = false;
                _completion.TrySetResult();
            }
        }

        private void Run()
        {
            SafeLlamaContextHandle context = _session._context;
            LlamaTokenizer tokenizer = _session.Model.Tokenizer;
            using NativeSampler sampler = _options.Sampling.CreateNativeSampler(tokenizer, _session.Options.Seed, _options.Chat);

            long promptStart = Stopwatch.GetTimestamp();
            int cached = _session.ReuseCachedPrefix(_prompt);
            _session.Evaluate(_prompt.AsSpan(cached), _throwIfCancelled);
            TimeSpan promptTime = Stopwatch.GetElapsedTime(promptStart);

            var completion = new CompletionText(_options);
            var logProbabilities = _options.LogProbabilities || _options.TopLogProbabilities > 0
                ? new LogProbabilityReader(tokenizer, _options.TopLogProbabilities)
                : null;
            Span<byte> piece = stackalloc byte[256];
            int generated = 0;
            long generationStart = Stopwatch.GetTimestamp();
            LlamaFinishReason reason;
            while (true)
            {
                ThrowIfCancelled();
                int token = sampler.Sample(context, -1);
                if (tokenizer.IsEndOfGeneration(token))
                {
                    reason = LlamaFinishReason.Stop;
                    break;
                }

                generated++;
                string text = completion.Append(token, tokenizer, piece);
                float? logProbability = null;
                IReadOnlyList<LlamaTokenProbability>? top = null;
                if (logProbabilities is not null)
                {
                    logProbability = logProbabilities.Read(context.GetLogits(-1, tokenizer.VocabularySize), token, out top);
                }

                _updates.Writer.TryWrite(new LlamaGenerationUpdate { Text = text, TokenId = token, LogProbability = logProbability, TopLogProbabilities = top });
                if (completion.Stopped)
                {
                    reason = LlamaFinishReason.Stop;
                    break;
                }

                if (generated == _options.MaxTokens)
                {
                    reason = LlamaFinishReason.Length;
                    break;
                }

                if (!_session.MakeRoomForOneToken())
                {
                    reason = LlamaFinishReason.ContextFull;
                    break;
                }

                _session.Evaluate([token], _throwIfCancelled);
            }

            string rest = completion.Flush();
            FinishReason = reason;
            Usage = new LlamaUsage
            {
                PromptTokens = _prompt.Length,
                CachedPromptTokens = cached,
                GeneratedTokens = generated,
                PromptEvaluationTime = promptTime,
                GenerationTime = Stopwatch.GetElapsedTime(generationStart),
            };
            _updates.Writer.TryWrite(new LlamaGenerationUpdate { Text = rest, FinishReason = reason, Usage = Usage });
        }

        private void ThrowIfCancelled()
        {
            if (Cancelled)
            {
                throw new OperationCanceledException("The generation was cancelled.", _cancellationToken);
            }
        }
    }
}
