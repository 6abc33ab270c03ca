namespace LocalLlm;

// LoRA adapters inside the step: llama.cpp applies one set per decode, so a step takes the requests of one set.
internal sealed partial class InferenceEngine
{
    private int _adapterCursor;

    // The LoRA adapters the context applies now, and those each sequence's cached tokens were computed with: a cached
    // prefix is reusable only under the same adapters.
    private LoraSet _appliedAdapters = LoraSet.None;
    private string[]? _sequenceAdapters;

    /// <summary>The adapter set of this step: that of the first request ready to decode, from a cursor that moves each step.</summary>
    private string StepAdapters()
    {
        string? first = null;
        bool mixed = false;
        for (int i = 0; i < _slots.Length; i++)
        {
            GenerationRequest? request = _slots[(_adapterCursor + i) % _slots.Length];
            if (request is null || !(request.Prefilling || request.PendingToken >= 0))
            {
                continue;
            }

            first ??= request.Adapters.Key;
            mixed |= request.Adapters.Key != first;
        }

        if (mixed)
        {
            _adapterCursor = (_adapterCursor + 1) % _slots.Length;
        }

        return first ?? string.Empty;
    }

    /// <summary>Makes the batch's adapters the context's, when they differ from those it applies.</summary>
    private void ApplyBatchAdapters()
    {
        LoraSet wanted = _batchRequests.Count > 0 ? _batchRequests[0].Adapters : LoraSet.None;
        if (wanted.Key == _appliedAdapters.Key)
        {
            return;
        }

        wanted.ApplyTo(_context);
        _appliedAdapters = wanted;
    }
}
