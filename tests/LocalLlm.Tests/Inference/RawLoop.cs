using LocalLlm.Native;

namespace LocalLlm.Tests.Inference;

/// <summary>The reference: llama_decode and argmax over the logits, with no SDK code in between.</summary>
internal static class RawLoop
{
    public static unsafe int[] Greedy(LlamaModel model, int[] prompt, int count, int contextSize = 512)
    {
        llama_context_params parameters = NativeMethods.llama_context_default_params();
        parameters.n_ctx = (uint)contextSize;
        parameters.n_batch = (uint)contextSize;
        parameters.n_threads = 2;
        parameters.n_threads_batch = 2;
        using SafeLlamaContextHandle context = SafeLlamaContextHandle.Create(model.Handle, parameters);
        int vocabulary = model.Tokenizer.VocabularySize;
        var generated = new int[count];
        fixed (int* tokens = prompt)
        {
            Check(NativeMethods.llama_decode(context, NativeMethods.llama_batch_get_one(tokens, prompt.Length)));
        }

        for (int i = 0; i < count; i++)
        {
            var logits = new ReadOnlySpan<float>(NativeMethods.llama_get_logits_ith(context, -1), vocabulary);
            int best = 0;
            for (int token = 1; token < vocabulary; token++)
            {
                if (logits[token] > logits[best])
                {
                    best = token;
                }
            }

            generated[i] = best;
            Check(NativeMethods.llama_decode(context, NativeMethods.llama_batch_get_one(&best, 1)));
        }

        return generated;
    }

    private static void Check(int status) => Assert.That(status, Is.Zero, "llama_decode status");
}
