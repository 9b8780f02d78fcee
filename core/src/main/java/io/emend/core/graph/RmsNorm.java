package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

/**
 * Root-mean-square normalization as Hugging Face Llama computes it: {@code x / sqrt(mean(x²) + eps) * w} over the last
 * axis. Activation-first, so the result belongs to {@code x}'s manager.
 */
public final class RmsNorm {

    private RmsNorm() {
    }

    /**
     * @param x      activations, [..., dim]
     * @param weight gain, [dim]
     * @param eps    {@code rms_norm_eps}
     */
    public static NDArray apply(NDArray x, NDArray weight, double eps) {
        NDArray meanSquare = x.square().mean(new int[] {-1}, true);
        NDArray inverseRms = meanSquare.add(eps).sqrt().pow(Constant.of(x, -1));
        return x.mul(inverseRms).mul(weight);
    }

    /** The definition as plain loops over one row, kept beside the graph op so tests can compare the two. */
    public static float[] reference(float[] x, float[] weight, double eps) {
        double sumSquares = 0;
        for (float v : x) {
            sumSquares += (double) v * v;
        }
        double inverseRms = 1.0 / Math.sqrt(sumSquares / x.length + eps);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (x[i] * inverseRms * weight[i]);
        }
        return out;
    }
}
