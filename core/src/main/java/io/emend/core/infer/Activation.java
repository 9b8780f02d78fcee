package io.emend.core.infer;

/** The MLP nonlinearities, elementwise and O(width) per token. */
public final class Activation {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private Activation() {
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) * up[i]}, silu(x) = x / (1 + e^-x). */
    public static void swiGlu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
    }

    /** GPT-2's {@code gelu_new}: {@code 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))}. */
    public static void geluNew(float[] x, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i];
            x[i] = (float) (0.5 * v * (1.0 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))));
        }
    }

    /** In-place softmax of {@code x[offset .. offset+n)}, shifted by the maximum so no exponent overflows. */
    public static void softmax(float[] x, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[offset + i] *= inv;
        }
    }
}
