using System.Runtime.InteropServices;
using LocalLlm.Native;

namespace LocalLlm.Tests.Sampling;

/// <summary>Runs a native sampler chain over synthetic candidates, as llama_sampler_sample would over a context's logits.</summary>
internal static unsafe class SamplerChainProbe
{
    /// <summary>Applies <paramref name="chain"/> to one candidate per logit (id = index) and returns the selected id.</summary>
    public static int Select(SafeLlamaSamplerHandle chain, float[] logits)
    {
        llama_token_data[] data = new llama_token_data[logits.Length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = new llama_token_data { id = i, logit = logits[i], p = 0f };
        }

        fixed (llama_token_data* pointer = data)
        {
            llama_token_data_array candidates = new() { data = pointer, size = (nuint)data.Length, selected = -1, sorted = 0 };
            NativeMethods.llama_sampler_apply(chain, &candidates);
            Assert.That(candidates.selected, Is.InRange(0L, (long)candidates.size - 1), "the chain's last sampler must select a candidate");
            return candidates.data[candidates.selected].id;
        }
    }

    /// <summary>Selects a token and feeds it back to the chain (penalties, DRY, grammar and Mirostat track history).</summary>
    public static int SelectAndAccept(SafeLlamaSamplerHandle chain, float[] logits)
    {
        int token = Select(chain, logits);
        NativeMethods.llama_sampler_accept(chain, token);
        return token;
    }

    /// <summary>The names of the samplers in <paramref name="chain"/>, in order.</summary>
    public static string[] Names(SafeLlamaSamplerHandle chain)
    {
        int count = NativeMethods.llama_sampler_chain_n(chain);
        string[] names = new string[count];
        for (int i = 0; i < count; i++)
        {
            names[i] = Marshal.PtrToStringUTF8(NativeMethods.llama_sampler_name(NativeMethods.llama_sampler_chain_get(chain, i)))!;
        }

        return names;
    }

    /// <summary>Reproducible logits, one per token of the vocabulary.</summary>
    public static float[] RandomLogits(int vocabularySize, int seed)
    {
        Random random = new(seed);
        float[] logits = new float[vocabularySize];
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)(random.NextDouble() * 10.0);
        }

        return logits;
    }

    /// <summary>Logits that are all <paramref name="baseline"/> except those given.</summary>
    public static float[] Logits(int vocabularySize, float baseline, params (int Token, float Logit)[] peaks)
    {
        float[] logits = new float[vocabularySize];
        Array.Fill(logits, baseline);
        foreach ((int token, float logit) in peaks)
        {
            logits[token] = logit;
        }

        return logits;
    }

    public static int ArgMax(float[] logits) => Array.IndexOf(logits, logits.Max());
}
