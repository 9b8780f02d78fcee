package io.emend.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;

import java.util.List;

/**
 * {@code log p(ids[t+1] | ids[0..t])} for every position of a batch of right-padded sequences: the quantity behind
 * perplexity and continuation scoring. The log-softmax and the gather of the targets run in the graph, so only one
 * float per position comes back to Java instead of a vocabulary-wide row.
 */
final class NextTokenLogProbs {

    private NextTokenLogProbs() {
    }

    /**
     * @return per sequence, {@code length - 1} natural-log probabilities (the first token is never predicted)
     */
    static float[][] of(Transformer model, List<int[]> sequences, ForwardOptions options) {
        TokenBatch batch = TokenBatch.padded(sequences, TokenBatch.Padding.RIGHT, 0);
        int b = batch.batchSize();
        int t = batch.length();
        long[] targets = new long[b * t];
        for (int r = 0; r < b; r++) {
            int[] s = sequences.get(r);
            for (int i = 0; i + 1 < s.length; i++) {
                targets[r * t + i] = s[i + 1];
            }
        }
        float[] flat;
        try (NDManager scope = NDManager.newBaseManager()) {
            NDArray logits = model.forward(scope, batch, options.withCache(null).withLogits(LogitsScope.ALL)).logits();
            NDArray index = scope.create(targets, new Shape(b, t, 1));
            flat = logits.logSoftmax(2).gather(index, 2).toFloatArray();
        }
        float[][] out = new float[b][];
        for (int r = 0; r < b; r++) {
            int n = Math.max(0, sequences.get(r).length - 1);
            out[r] = new float[n];
            System.arraycopy(flat, r * t, out[r], 0, n);
        }
        return out;
    }
}
