package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

/**
 * Layer normalization over the last axis, GPT-2's: {@code (x - mean) / sqrt(var + eps) * w + b} with the biased variance.
 * Composed from elementwise ops so it differentiates like everything else in the graph.
 */
public final class LayerNorm {

    private LayerNorm() {
    }

    /**
     * @param x      activations, [..., dim]
     * @param weight gain, [dim]
     * @param bias   shift, [dim]
     * @param eps    {@code layer_norm_epsilon}
     */
    public static NDArray apply(NDArray x, NDArray weight, NDArray bias, double eps) {
        NDArray centered = x.sub(x.mean(new int[] {-1}, true));
        NDArray variance = centered.square().mean(new int[] {-1}, true);
        return centered.mul(variance.add(eps).sqrt().pow(Constant.of(x, -1))).mul(weight).add(bias);
    }

    /** The definition as plain loops over one row. */
    public static float[] reference(float[] x, float[] weight, float[] bias, double eps) {
        double mean = 0;
        for (float v : x) {
            mean += v;
        }
        mean /= x.length;
        double variance = 0;
        for (float v : x) {
            variance += (v - mean) * (v - mean);
        }
        variance /= x.length;
        double inverseStd = 1.0 / Math.sqrt(variance + eps);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) ((x[i] - mean) * inverseStd * weight[i] + bias[i]);
        }
        return out;
    }
}
