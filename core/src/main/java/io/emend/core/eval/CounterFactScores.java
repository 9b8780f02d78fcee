package io.emend.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.SubjectPrompt;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * CounterFact-style scores of edits, measured before and after (each a forward option set: no deltas, then the edit
 * delta). Candidates are compared by mean per-token log-probability as continuations of a prompt (ROME's convention,
 * so multi-token answers are not penalised for length); "probability" below is {@code exp} of that mean.
 * <ul>
 *   <li><b>efficacy</b>: on the prompt, P(target_new) &gt; P(ground_truth) (requests with a ground truth);</li>
 *   <li><b>rewrite accuracy</b>: fraction of target_new's tokens that are the argmax under teacher forcing
 *       (EasyEdit's, needs no ground truth);</li>
 *   <li><b>paraphrase</b>: efficacy on rephrase_prompt;</li>
 *   <li><b>neighborhood</b>: on locality_prompt, P(locality_ground_truth) &gt; P(target_new): the unrelated prompt
 *       still prefers its own answer;</li>
 *   <li><b>locality</b>: fraction of locality_ground_truth's teacher-forced argmax tokens unchanged by the edit;</li>
 *   <li><b>magnitude</b>: the probability margins behind efficacy, paraphrase and neighborhood.</li>
 * </ul>
 *
 * @param edits   per request
 * @param summary means over the requests that have the field
 */
public record CounterFactScores(List<EditScore> edits, Summary summary) {

    private static final int ROWS_PER_BATCH = 32;

    public CounterFactScores {
        edits = List.copyOf(edits);
    }

    /**
     * Two candidates' mean per-token log-probabilities as continuations of one prompt.
     *
     * @param preferred the candidate that should win (target_new for efficacy, the locality answer for neighborhood)
     * @param other     the one it is compared with
     */
    public record Comparison(double preferred, double other) {

        public boolean success() {
            return preferred > other;
        }

        /** {@code exp(preferred) − exp(other)}. */
        public double margin() {
            return Math.exp(preferred) - Math.exp(other);
        }
    }

    /**
     * One request's scores; {@code Optional.empty()} where the request lacks the field the score needs.
     */
    public record EditScore(int index,
                            Optional<Comparison> efficacyBefore, Optional<Comparison> efficacyAfter,
                            double rewriteAccuracyBefore, double rewriteAccuracyAfter,
                            Optional<Comparison> paraphraseBefore, Optional<Comparison> paraphraseAfter,
                            Optional<Comparison> neighborhoodBefore, Optional<Comparison> neighborhoodAfter,
                            OptionalDouble locality) {
    }

    /**
     * Means over requests (fractions in [0, 1]; magnitudes in probability units); NaN where no request had the field.
     */
    public record Summary(int edits,
                          double efficacyBefore, double efficacy, double efficacyMagnitude,
                          double rewriteAccuracyBefore, double rewriteAccuracy,
                          double paraphraseBefore, double paraphrase, double paraphraseMagnitude,
                          double neighborhoodBefore, double neighborhood, double neighborhoodMagnitude,
                          double locality) {
    }

    /**
     * Scores every request under both option sets.
     *
     * @param before options of the unedited model (usually {@link ForwardOptions#defaults()})
     * @param after  options with the edits applied
     */
    public static CounterFactScores measure(Transformer model, Tokenizer tokenizer, List<EditRequest> requests,
                                            ForwardOptions before, ForwardOptions after) {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> targets = new ArrayList<>();
        List<int[]> slots = new ArrayList<>();
        for (EditRequest r : requests) {
            int[] slot = new int[] {-1, -1, -1, -1, -1, -1};
            String prompt = r.filledPrompt();
            slot[0] = add(tokenizer, prompt, r.targetNew(), prompts, targets);
            if (r.groundTruth().isPresent()) {
                slot[1] = add(tokenizer, prompt, r.groundTruth().get(), prompts, targets);
                if (r.filledRephrase().isPresent()) {
                    slot[2] = add(tokenizer, r.filledRephrase().get(), r.targetNew(), prompts, targets);
                    slot[3] = add(tokenizer, r.filledRephrase().get(), r.groundTruth().get(), prompts, targets);
                }
            }
            if (r.localityPrompt().isPresent()) {
                slot[4] = add(tokenizer, r.localityPrompt().get(), r.localityGroundTruth().orElseThrow(), prompts,
                        targets);
                slot[5] = add(tokenizer, r.localityPrompt().get(), r.targetNew(), prompts, targets);
            }
            slots.add(slot);
        }
        Scored[] pre = score(model, before, prompts, targets);
        Scored[] post = score(model, after, prompts, targets);
        List<EditScore> scores = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            int[] s = slots.get(i);
            int[] target = targets.get(s[0]);
            OptionalDouble locality = OptionalDouble.empty();
            if (s[4] >= 0) {
                locality = OptionalDouble.of(agreement(pre[s[4]].argmax, post[s[4]].argmax));
            }
            scores.add(new EditScore(i,
                    compare(pre, s[0], s[1]), compare(post, s[0], s[1]),
                    agreement(pre[s[0]].argmax, target), agreement(post[s[0]].argmax, target),
                    compare(pre, s[2], s[3]), compare(post, s[2], s[3]),
                    compare(pre, s[4], s[5]), compare(post, s[4], s[5]),
                    locality));
        }
        return new CounterFactScores(scores, summarize(scores));
    }

    private static int add(Tokenizer tokenizer, String prompt, String target, List<int[]> prompts, List<int[]> targets) {
        prompts.add(tokenizer.encode(prompt, true));
        targets.add(SubjectPrompt.continuation(tokenizer, prompt, target));
        return prompts.size() - 1;
    }

    private static Optional<Comparison> compare(Scored[] s, int preferred, int other) {
        if (preferred < 0 || other < 0) {
            return Optional.empty();
        }
        return Optional.of(new Comparison(s[preferred].meanLogProb, s[other].meanLogProb));
    }

    private static double agreement(int[] a, int[] b) {
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        return (double) same / a.length;
    }

    /** A continuation's mean per-token log-probability and the argmax token at each of its positions. */
    private record Scored(double meanLogProb, int[] argmax) {
    }

    private static Scored[] score(Transformer model, ForwardOptions options, List<int[]> prompts, List<int[]> targets) {
        Scored[] out = new Scored[prompts.size()];
        ForwardOptions o = options.withCache(null).withLogits(LogitsScope.ALL);
        for (int from = 0; from < prompts.size(); from += ROWS_PER_BATCH) {
            int to = Math.min(prompts.size(), from + ROWS_PER_BATCH);
            List<int[]> rows = new ArrayList<>();
            for (int i = from; i < to; i++) {
                int[] p = prompts.get(i);
                int[] t = targets.get(i);
                int[] row = new int[p.length + t.length - 1];
                System.arraycopy(p, 0, row, 0, p.length);
                System.arraycopy(t, 0, row, p.length, t.length - 1);
                rows.add(row);
            }
            TokenBatch batch = TokenBatch.padded(rows, TokenBatch.Padding.RIGHT, 0);
            int b = batch.batchSize();
            int len = batch.length();
            long[] index = new long[b * len];
            for (int r = 0; r < b; r++) {
                int[] p = prompts.get(from + r);
                int[] t = targets.get(from + r);
                for (int j = 0; j < t.length; j++) {
                    index[r * len + p.length - 1 + j] = t[j];
                }
            }
            float[] logProbs;
            long[] argmax;
            try (NDManager scope = NDManager.newBaseManager()) {
                NDArray logits = model.forward(scope, batch, o).logits();
                NDArray logp = logits.logSoftmax(2);
                logProbs = logp.gather(scope.create(index, new Shape(b, len, 1)), 2).toFloatArray();
                argmax = logits.argMax(2).toLongArray();
            }
            for (int r = 0; r < b; r++) {
                int[] p = prompts.get(from + r);
                int[] t = targets.get(from + r);
                double sum = 0;
                int[] am = new int[t.length];
                for (int j = 0; j < t.length; j++) {
                    int pos = r * len + p.length - 1 + j;
                    sum += logProbs[pos];
                    am[j] = (int) argmax[pos];
                }
                out[from + r] = new Scored(sum / t.length, am);
            }
        }
        return out;
    }

    private static Summary summarize(List<EditScore> s) {
        return new Summary(s.size(),
                rate(s.stream().map(EditScore::efficacyBefore).toList()),
                rate(s.stream().map(EditScore::efficacyAfter).toList()),
                margin(s.stream().map(EditScore::efficacyAfter).toList()),
                s.stream().mapToDouble(EditScore::rewriteAccuracyBefore).average().orElse(Double.NaN),
                s.stream().mapToDouble(EditScore::rewriteAccuracyAfter).average().orElse(Double.NaN),
                rate(s.stream().map(EditScore::paraphraseBefore).toList()),
                rate(s.stream().map(EditScore::paraphraseAfter).toList()),
                margin(s.stream().map(EditScore::paraphraseAfter).toList()),
                rate(s.stream().map(EditScore::neighborhoodBefore).toList()),
                rate(s.stream().map(EditScore::neighborhoodAfter).toList()),
                margin(s.stream().map(EditScore::neighborhoodAfter).toList()),
                s.stream().map(EditScore::locality).filter(OptionalDouble::isPresent)
                        .mapToDouble(OptionalDouble::getAsDouble).average().orElse(Double.NaN));
    }

    private static double rate(List<Optional<Comparison>> cs) {
        return cs.stream().flatMap(Optional::stream).mapToDouble(c -> c.success() ? 1 : 0).average().orElse(Double.NaN);
    }

    private static double margin(List<Optional<Comparison>> cs) {
        return cs.stream().flatMap(Optional::stream).mapToDouble(Comparison::margin).average().orElse(Double.NaN);
    }
}
