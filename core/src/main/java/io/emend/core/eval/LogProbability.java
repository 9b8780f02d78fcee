package io.emend.core.eval;

import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;

import java.util.ArrayList;
import java.util.List;

/**
 * Log-probability of a target continuation given a prompt, {@code Σ log p(target[i] | prompt, target[..i])}: the
 * primitive behind edit efficacy ("does the edited model now prefer the new object?") and negative-flip checks. Both
 * are token ids; the prompt carries its BOS when the model uses one.
 */
public final class LogProbability {

    private LogProbability() {
    }

    public static ContinuationScore of(Transformer model, int[] prompt, int[] target, ForwardOptions options) {
        return of(model, List.of(prompt), List.of(target), options).getFirst();
    }

    /**
     * Scores many (prompt, target) pairs in batched forwards (as many pairs per forward as keep the logits near
     * 128 MiB).
     *
     * @param options deltas to score with; its cache and logits scope are replaced
     * @throws IllegalArgumentException when the lists differ in size, a prompt or target is empty, or a pair is
     *                                  longer than the model's context
     */
    public static List<ContinuationScore> of(Transformer model, List<int[]> prompts, List<int[]> targets,
                                             ForwardOptions options) {
        if (prompts.size() != targets.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + targets.size() + " targets");
        }
        List<int[]> joined = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            int[] t = targets.get(i);
            if (p.length == 0 || t.length == 0) {
                throw new IllegalArgumentException("pair " + i + ": prompt and target need at least one token each");
            }
            int[] s = new int[p.length + t.length];
            System.arraycopy(p, 0, s, 0, p.length);
            System.arraycopy(t, 0, s, p.length, t.length);
            joined.add(s);
        }
        float[][] logProbs = new float[joined.size()][];
        int from = 0;
        while (from < joined.size()) {
            int to = from;
            int longest = 0;
            while (to < joined.size()) {
                int len = joined.get(to).length;
                if (to > from && (long) Math.max(longest, len) * (to - from + 1) * model.config().vocabSize()
                        > Perplexity.LOGITS_BUDGET) {
                    break;
                }
                longest = Math.max(longest, len);
                to++;
            }
            float[][] part = NextTokenLogProbs.of(model, joined.subList(from, to), options);
            System.arraycopy(part, 0, logProbs, from, part.length);
            from = to;
        }
        List<ContinuationScore> out = new ArrayList<>();
        for (int i = 0; i < joined.size(); i++) {
            int promptLength = prompts.get(i).length;
            float[] perToken = new float[targets.get(i).length];
            System.arraycopy(logProbs[i], promptLength - 1, perToken, 0, perToken.length);
            double sum = 0;
            for (float v : perToken) {
                sum += v;
            }
            out.add(new ContinuationScore(sum, perToken));
        }
        return out;
    }
}
