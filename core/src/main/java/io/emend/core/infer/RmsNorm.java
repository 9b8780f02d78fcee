package io.emend.core.infer;

/** Llama's RMSNorm, {@code x / sqrt(mean(x²) + eps) * w}, the mean taken in double (it is O(dim), not hot). */
public final class RmsNorm {

    private RmsNorm() {
    }

    /** Writes the normalized {@code x} into {@code out} (which may be {@code x}). */
    public static void apply(float[] x, float[] weight, double eps, float[] out) {
        double squares = 0;
        for (float v : x) {
            squares += (double) v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(squares / x.length + eps));
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * weight[i];
        }
    }
}
