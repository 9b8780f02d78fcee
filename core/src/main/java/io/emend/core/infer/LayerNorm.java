package io.emend.core.infer;

/** GPT-2's LayerNorm, {@code (x - mean) / sqrt(var + eps) * w + b}, moments in double. */
public final class LayerNorm {

    private LayerNorm() {
    }

    public static void apply(float[] x, float[] weight, float[] bias, double eps, float[] out) {
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        double mean = sum / x.length;
        double var = 0;
        for (float v : x) {
            var += (v - mean) * (v - mean);
        }
        double inv = 1.0 / Math.sqrt(var / x.length + eps);
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) ((x[i] - mean) * inv) * weight[i] + bias[i];
        }
    }
}
