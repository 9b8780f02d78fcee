package io.emend.core.train.data;

import io.emend.core.graph.TokenBatch;

import java.util.List;

/**
 * Rows ready for one forward: inputs right-padded to the longest row, the next-token labels, and the loss mask.
 *
 * @param inputs  [B, T] the tokens the model reads
 * @param labels  [B*T] the token to predict at each position (0 where the mask is 0)
 * @param weights [B*T] 1 where the prediction counts in the loss, else 0
 * @param targets number of positions that count
 */
public record SequenceBatch(TokenBatch inputs, long[] labels, float[] weights, int targets) {

    public static SequenceBatch of(List<PackedSequence> rows) {
        int length = 0;
        for (PackedSequence s : rows) {
            length = Math.max(length, s.inputLength());
        }
        int b = rows.size();
        int[][] ids = new int[b][length];
        int[][] mask = new int[b][length];
        long[] labels = new long[b * length];
        float[] weights = new float[b * length];
        int count = 0;
        for (int r = 0; r < b; r++) {
            PackedSequence s = rows.get(r);
            for (int t = 0; t < s.inputLength(); t++) {
                ids[r][t] = s.token(t);
                mask[r][t] = 1;
                if (s.target(t + 1)) {
                    labels[r * length + t] = s.token(t + 1);
                    weights[r * length + t] = 1f;
                    count++;
                }
            }
        }
        return new SequenceBatch(new TokenBatch(ids, mask), labels, weights, count);
    }

    public int tokens() {
        int n = 0;
        for (int r = 0; r < inputs.batchSize(); r++) {
            for (int t = 0; t < inputs.length(); t++) {
                n += inputs.real(r, t) ? 1 : 0;
            }
        }
        return n;
    }
}
