package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The additive attention mask combining causality with padding. Query i of a chunk of {@code queries} new tokens sits
 * at key index {@code keys - queries + i} (the keys are the cached past followed by the chunk), so it may see key j
 * when {@code j <= keys - queries + i} and key j is a real token. Works for left and right padding alike because
 * padding is read from the key mask, never assumed at one end.
 */
public final class AttentionMask {

    /**
     * Added to the scores of hidden keys. Finite so that a query with no visible key (a padding query under left
     * padding) gets a uniform, finite softmax instead of NaN; its output is never read. Large enough that
     * {@code exp(score - 1e30)} is exactly 0 in float32 next to any visible key.
     */
    public static final float HIDDEN = -1e30f;

    private AttentionMask() {
    }

    /** Whether query i (of the last {@code queries} positions) may attend to key j in row b. */
    public static boolean visible(int[][] keyMask, int b, int i, int j, int queries) {
        int keys = keyMask[b].length;
        return j <= keys - queries + i && keyMask[b][j] != 0;
    }

    /**
     * @param keyMask [batch][keys] 1 for a real token, 0 for padding (past and current chunk together)
     * @param queries how many of the last keys are the current queries
     * @return [batch, 1, queries, keys], 0 where visible and {@link #HIDDEN} elsewhere
     */
    public static NDArray additive(NDManager manager, int[][] keyMask, int queries) {
        int batch = keyMask.length;
        int keys = batch == 0 ? 0 : keyMask[0].length;
        if (queries > keys) {
            throw new IllegalArgumentException("more queries (" + queries + ") than keys (" + keys + ")");
        }
        float[] mask = new float[batch * queries * keys];
        for (int b = 0; b < batch; b++) {
            if (keyMask[b].length != keys) {
                throw new IllegalArgumentException("key mask rows differ in length: row " + b + " has "
                        + keyMask[b].length + ", row 0 has " + keys);
            }
            for (int i = 0; i < queries; i++) {
                int row = (b * queries + i) * keys;
                for (int j = 0; j < keys; j++) {
                    mask[row + j] = visible(keyMask, b, i, j, queries) ? 0f : HIDDEN;
                }
            }
        }
        return Constant.of(manager, mask, new Shape(batch, 1, queries, keys));
    }
}
