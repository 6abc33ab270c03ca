using System.Text;

namespace LocalLlm;

/// <summary>Computes a token's log-probability and the most likely alternatives from the model's raw logits.</summary>
internal sealed class LogProbabilityReader(LlamaTokenizer tokenizer, int topCount)
{
    private readonly int[] _topTokens = new int[topCount];
    private readonly float[] _topLogits = new float[topCount];

    public float Read(ReadOnlySpan<float> logits, int chosen, out IReadOnlyList<LlamaTokenProbability>? top)
    {
        float max = float.NegativeInfinity;
        foreach (float logit in logits)
        {
            max = Math.Max(max, logit);
        }

        double sum = 0;
        foreach (float logit in logits)
        {
            sum += Math.Exp(logit - max);
        }

        float logNormalizer = max + (float)Math.Log(sum);
        top = topCount > 0 ? Top(logits, logNormalizer) : null;
        return logits[chosen] - logNormalizer;
    }

    private LlamaTokenProbability[] Top(ReadOnlySpan<float> logits, float logNormalizer)
    {
        int filled = 0;
        for (int token = 0; token < logits.Length; token++)
        {
            float logit = logits[token];
            if (filled == topCount && logit <= _topLogits[filled - 1])
            {
                continue;
            }

            int at = filled < topCount ? filled++ : filled - 1;
            while (at > 0 && _topLogits[at - 1] < logit)
            {
                _topLogits[at] = _topLogits[at - 1];
                _topTokens[at] = _topTokens[at - 1];
                at--;
            }

            _topLogits[at] = logit;
            _topTokens[at] = token;
        }

        var result = new LlamaTokenProbability[filled];
        for (int i = 0; i < filled; i++)
        {
            string text = Encoding.UTF8.GetString(tokenizer.GetTokenBytes(_topTokens[i]));
            result[i] = new LlamaTokenProbability(_topTokens[i], text, _topLogits[i] - logNormalizer);
        }

        return result;
    }
}
