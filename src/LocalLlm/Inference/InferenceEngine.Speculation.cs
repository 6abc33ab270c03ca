namespace LocalLlm;

// Speculative decoding inside the step: a request's draft is decoded with its pending token, and each drafted position
// is sampled in turn and kept to the first difference.
internal sealed partial class InferenceEngine
{
    // Draft models' contexts, made on first use by a request that drafts with one; freed with the engine.
    private Dictionary<LlamaModel, ModelDrafter>? _drafters;

    /// <summary>
    /// Speculation: after the pending token, the tokens prompt lookup proposes to follow it, each with an output row, at
    /// the positions they would take; as many as the batch, the context and the request's token limit leave room for.
    /// </summary>
    private void AddDraft(GenerationRequest request, List<int> history, int position)
    {
        // The history ends with the pending token: SampleAndAccept recorded it when it was sampled.
        int room = Math.Min(Math.Min(Math.Min(request.Draft.Length, request.DraftBudget), BatchSize - _batch.Count), SequenceContextSize - position - 2);
        LlamaSpeculationOptions speculation = request.Options.Speculation!;
        ReadOnlySpan<int> context = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history);
        int length = room <= 0 ? 0
            : speculation.DraftModel is { } draftModel ? Drafter(draftModel).Draft(request.Sequence, context, request.Draft.AsSpan(0, room))
            : NgramLookup.Draft(context, speculation.LookupNgramSize, request.Draft.AsSpan(0, room));
        for (int i = 0; i < length; i++)
        {
            request.DraftRows[i] = _batch.Add(request.Draft[i], position + 1 + i, request.Sequence, output: true);
        }

        request.DraftLength = length;
    }

    private ModelDrafter Drafter(LlamaModel draftModel)
    {
        _drafters ??= [];
        if (!_drafters.TryGetValue(draftModel, out ModelDrafter? drafter))
        {
            drafter = new ModelDrafter(draftModel, _slots.Length, SequenceContextSize, _settings.Context.ThreadCount);
            _drafters[draftModel] = drafter;
        }

        return drafter;
    }

    /// <summary>
    /// Speculation: samples each drafted position in turn, as the request would sample it without a draft, and keeps
    /// the draft while the sample equals it; the positions past the last kept one leave the KV cache.
    /// </summary>
    private LlamaFinishReason? SampleDraft(GenerationRequest request, Span<byte> piece)
    {
        LlamaFinishReason? reason = request.SampleAndAccept(_context, _model.Tokenizer, piece, _loopThread);
        int accepted = 0;
        while (reason is null && accepted < request.DraftLength && request.PendingToken == request.Draft[accepted])
        {
            // The sampled token is the drafted one, already in the KV cache: the step goes on from its row.
            _sequences.Append(request.Sequence, [request.PendingToken]);
            request.OutputRow = request.DraftRows[accepted];
            accepted++;
            reason = request.SampleAndAccept(_context, _model.Tokenizer, piece, _loopThread);
        }

        if (accepted < request.DraftLength)
        {
            _context.RemoveTokens(request.Sequence, _sequences.Count(request.Sequence), -1);
        }

        request.RecordDraft(request.DraftLength, accepted);
        request.DraftLength = 0;
        return reason;
    }
}
