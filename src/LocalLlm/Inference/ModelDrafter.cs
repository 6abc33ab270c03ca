using System.Numerics.Tensors;
using LocalLlm.Native;

namespace LocalLlm;

/// <summary>
/// Drafting with a smaller model of the same vocabulary: a context of the draft model with as many sequences as the
/// engine, each kept in step with its request (the prompt and the reply so far, a common prefix reused), from which a
/// draft is the draft model's greedy continuation. Runs on the engine's loop thread only.
/// </summary>
internal sealed class ModelDrafter : IDisposable
{
    private readonly SafeLlamaContextHandle _context;
    private readonly AbortFlag _abort = new();
    private readonly NativeBatch _batch;
    private readonly List<int>[] _held;
    private readonly int _sequenceSize;
    private readonly int _vocabularySize;

    public ModelDrafter(LlamaModel draftModel, int sequences, int sequenceContextSize, int threads)
    {
        _sequenceSize = sequenceContextSize;
        int batchSize = Math.Min(512, sequenceContextSize);
        _context = SafeLlamaContextHandle.Create(draftModel.Handle, new NativeContextSettings
        {
            ContextSize = sequenceContextSize * sequences,
            BatchSize = batchSize,
            MicroBatchSize = batchSize,
            ThreadCount = threads,
            BatchThreadCount = threads,
            SequenceCount = sequences,
            UnifiedKvCache = sequences == 1,
        }, _abort, $"a draft context for '{draftModel.Path}'");
        _batch = new NativeBatch(batchSize);
        _held = [.. Enumerable.Range(0, sequences).Select(_ => new List<int>())];
        _vocabularySize = draftModel.Tokenizer.VocabularySize;
    }

    /// <summary>
    /// Refuses a draft model whose vocabulary is not the target's (as llama.cpp's <c>common_speculative_are_compatible</c>
    /// checks): the same tokenizer type and special tokens, sizes within 128, and every shared token the same text.
    /// </summary>
    public static void ThrowIfIncompatible(LlamaModel target, LlamaModel draft)
    {
        LlamaTokenizer t = target.Tokenizer;
        LlamaTokenizer d = draft.Tokenizer;
        string? problem = t.VocabularyType != d.VocabularyType ? $"its tokenizer is {d.VocabularyType}, the target's {t.VocabularyType}"
            : t.AddsBeginningOfSequence != d.AddsBeginningOfSequence || t.BeginningOfSequenceToken != d.BeginningOfSequenceToken ? "its beginning-of-sequence token differs from the target's"
            : t.EndOfSequenceToken != d.EndOfSequenceToken ? "its end-of-sequence token differs from the target's"
            : Math.Abs(t.VocabularySize - d.VocabularySize) > 128 ? $"its vocabulary has {d.VocabularySize} tokens, the target's {t.VocabularySize}"
            : null;
        if (problem is null)
        {
            int shared = Math.Min(t.VocabularySize, d.VocabularySize);
            for (int token = 0; token < shared; token++)
            {
                if (t.Vocabulary.GetText(token) != d.Vocabulary.GetText(token))
                {
                    problem = $"token {token} is '{d.Vocabulary.GetText(token)}' in it and '{t.Vocabulary.GetText(token)}' in the target";
                    break;
                }
            }
        }

        if (problem is not null)
        {
            throw new ArgumentException($"The draft model '{draft.Path}' cannot draft for '{target.Path}': {problem}. A draft model must share the target's vocabulary (a smaller model of the same family).", nameof(draft));
        }
    }

    /// <summary>Writes the draft model's greedy continuation of <paramref name="history"/> (ending with the pending token) into <paramref name="draft"/>; returns its length.</summary>
    public int Draft(int sequence, ReadOnlySpan<int> history, Span<int> draft)
    {
        if (draft.IsEmpty || history.Length + draft.Length > _sequenceSize)
        {
            return 0;
        }

        try
        {
            // Keep what this sequence shares with the history; evaluate the rest, the last token with logits.
            List<int> held = _held[sequence];
            int common = 0;
            while (common < held.Count && common < history.Length - 1 && held[common] == history[common])
            {
                common++;
            }

            if (!_context.RemoveTokens(sequence, common, -1))
            {
                _context.RemoveSequence(sequence);
                common = 0;
            }

            held.RemoveRange(common, held.Count - common);
            int row = -1;
            for (int next = common; next < history.Length;)
            {
                _batch.Clear();
                int end = Math.Min(history.Length, next + _batch.Capacity);
                for (; next < end; next++)
                {
                    row = _batch.Add(history[next], next, sequence, output: next == history.Length - 1);
                }

                if (_context.Decode(_batch) != 0)
                {
                    return Forget(sequence);
                }

                held.AddRange(history[(end - (_batch.Count))..end]);
            }

            for (int i = 0; i < draft.Length; i++)
            {
                draft[i] = TensorPrimitives.IndexOfMax(_context.GetLogits(row, _vocabularySize));
                if (i == draft.Length - 1)
                {
                    break;
                }

                _batch.Clear();
                row = _batch.Add(draft[i], held.Count, sequence, output: true);
                if (_context.Decode(_batch) != 0)
                {
                    Forget(sequence);
                    return i + 1;
                }

                held.Add(draft[i]);
            }

            return draft.Length;
        }
        catch (LlamaException)
        {
            return Forget(sequence);
        }
    }

    public void Dispose()
    {
        _batch.Dispose();
        _context.Dispose();
        _abort.Dispose();
    }

    // A failed draft decode leaves the sequence unknown: start it over next time, and draft nothing now.
    private int Forget(int sequence)
    {
        _context.RemoveSequence(sequence);
        _held[sequence].Clear();
        return 0;
    }
}
