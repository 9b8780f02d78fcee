package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention composed from matMul, mask and softmax (this PyTorch build exposes no fused kernel),
 * with grouped-query heads: query head h reads KV head {@code h / (heads / kvHeads)}.
 *
 * <p>The grouping is done by reshaping the queries, {@code [B, H, T, D] -> [B, KV, G*T, D]}, so that the G query heads
 * of one KV head become extra rows of a single matMul against that head's keys. Keys and values are never repeated in
 * memory, which matters for caches with few KV heads.
 */
public final class Attention {

    private Attention() {
    }

    /**
     * @param q      queries, [B, H, T, D]
     * @param keysT  keys transposed, [B, KV, D, S] (stored this way in the cache so no per-step transpose is needed)
     * @param values [B, KV, S, D]
     * @param mask   additive mask, [B, 1, T, S] (see {@link AttentionMask})
     * @return [B, H, T, D]
     */
    public static NDArray attend(NDArray q, NDArray keysT, NDArray values, NDArray mask) {
        Shape qs = q.getShape();
        long batch = qs.get(0);
        long heads = qs.get(1);
        long queries = qs.get(2);
        long headDim = qs.get(3);
        long kvHeads = keysT.getShape().get(1);
        long keys = keysT.getShape().get(3);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("query heads " + heads + " not a multiple of KV heads " + kvHeads);
        }
        long group = heads / kvHeads;
        NDArray grouped = q.mul(Constant.of(q, 1.0 / Math.sqrt(headDim))).reshape(batch, kvHeads, group * queries, headDim);
        NDArray scores = grouped.matMul(keysT).reshape(batch, heads, queries, keys).add(mask);
        NDArray probs = scores.softmax(-1).reshape(batch, kvHeads, group * queries, keys);
        return probs.matMul(values).reshape(batch, heads, queries, headDim);
    }

    /**
     * The definition for one query head at one position, as plain loops.
     *
     * @param q       [D] the query of head h
     * @param keys    [S][D] keys of KV head h / G
     * @param values  [S][D] values of KV head h / G
     * @param visible which keys the query may see
     */
    public static float[] reference(float[] q, float[][] keys, float[][] values, boolean[] visible) {
        int d = q.length;
        double[] scores = new double[keys.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < keys.length; j++) {
            if (!visible[j]) {
                continue;
            }
            double s = 0;
            for (int i = 0; i < d; i++) {
                s += (double) q[i] * keys[j][i];
            }
            scores[j] = s / Math.sqrt(d);
            max = Math.max(max, scores[j]);
        }
        double total = 0;
        for (int j = 0; j < keys.length; j++) {
            scores[j] = visible[j] ? Math.exp(scores[j] - max) : 0;
            total += scores[j];
        }
        float[] out = new float[d];
        for (int i = 0; i < d; i++) {
            double acc = 0;
            for (int j = 0; j < keys.length; j++) {
                acc += scores[j] / total * values[j][i];
            }
            out[i] = (float) acc;
        }
        return out;
    }

    /** Which KV head query head h reads: {@code h / (heads / kvHeads)}. */
    public static int kvHeadOf(int h, int heads, int kvHeads) {
        return h / (heads / kvHeads);
    }
}
