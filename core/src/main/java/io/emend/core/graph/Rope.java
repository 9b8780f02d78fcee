package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in Hugging Face's rotate-half layout: the pairs rotated together are {@code (x[i],
 * x[i + d/2])}, with angle {@code position * theta^(-2i/d)}. Checkpoints converted from interleaved layouts (llama2.c,
 * GGUF) have their q/k rows permuted at conversion, so this one layout serves every Llama-family file.
 *
 * <p>The cos/sin tables are computed in double precision in Java and rounded once: the angle {@code position *
 * inv_freq} loses about {@code position * 1e-7} radians when formed in float32, which at position 500 is already a
 * visible share of the 1e-4 logit tolerance the fixtures hold us to.
 *
 * @param headDim per-head width d (even)
 * @param theta   {@code rope_theta}
 */
public record Rope(int headDim, double theta) {

    public Rope {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE head_dim must be positive and even, got " + headDim);
        }
        if (!(theta > 0)) {
            throw new IllegalArgumentException("rope_theta must be positive, got " + theta);
        }
    }

    /** {@code theta^(-2i/d)} for i in [0, d/2). */
    public double[] inverseFrequencies() {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = Math.pow(theta, -2.0 * i / headDim);
        }
        return inv;
    }

    /**
     * The cos and sin tables for the given positions, each [batch, 1, seq, headDim] (the 1 broadcasts over heads), with
     * each frequency repeated in both halves as rotate-half needs.
     *
     * @param positions [batch][seq] absolute positions
     */
    public NDList tables(NDManager manager, int[][] positions) {
        double[] inv = inverseFrequencies();
        int batch = positions.length;
        int seq = batch == 0 ? 0 : positions[0].length;
        int half = headDim / 2;
        float[] cos = new float[batch * seq * headDim];
        float[] sin = new float[batch * seq * headDim];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int row = (b * seq + t) * headDim;
                for (int i = 0; i < half; i++) {
                    double angle = positions[b][t] * inv[i];
                    float c = (float) Math.cos(angle);
                    float s = (float) Math.sin(angle);
                    cos[row + i] = c;
                    cos[row + half + i] = c;
                    sin[row + i] = s;
                    sin[row + half + i] = s;
                }
            }
        }
        Shape shape = new Shape(batch, 1, seq, headDim);
        // the products with q and k save the tables for backward, which runs after the forward's scope is closed
        return new NDList(Constant.of(manager, cos, shape), Constant.of(manager, sin, shape));
    }

    /**
     * Rotates x: {@code x * cos + rotateHalf(x) * sin}, where {@code rotateHalf(x) = concat(-x2, x1)}.
     *
     * @param x      [batch, heads, seq, headDim]
     * @param tables from {@link #tables}
     */
    public NDArray apply(NDArray x, NDList tables) {
        NDList halves = x.split(2, x.getShape().dimension() - 1);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), -1);
        return x.mul(tables.get(0)).add(rotated.mul(tables.get(1)));
    }

    /** The definition on one head vector at one position, as plain loops. */
    public float[] reference(float[] x, int position) {
        double[] inv = inverseFrequencies();
        int half = headDim / 2;
        float[] out = new float[headDim];
        for (int i = 0; i < half; i++) {
            double angle = position * inv[i];
            double c = Math.cos(angle);
            double s = Math.sin(angle);
            out[i] = (float) (x[i] * c - x[i + half] * s);
            out[i + half] = (float) (x[i + half] * c + x[i] * s);
        }
        return out;
    }
}
