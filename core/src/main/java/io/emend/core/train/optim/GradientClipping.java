package io.emend.core.train.optim;

import java.util.Map;

/** Clipping by global norm: all gradients are scaled by {@code min(1, max / ‖g‖₂)}, ‖g‖ over every parameter. */
public final class GradientClipping {

    private GradientClipping() {
    }

    /** The global L2 norm (accumulated in double). */
    public static double norm(Map<String, float[]> gradients) {
        double sum = 0;
        for (float[] g : gradients.values()) {
            for (float x : g) {
                sum += (double) x * x;
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales the gradients in place when their norm exceeds {@code maxNorm} (≤ 0 turns clipping off).
     *
     * @return the norm before clipping
     */
    public static double clip(Map<String, float[]> gradients, double maxNorm) {
        double norm = norm(gradients);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (float[] g : gradients.values()) {
                for (int i = 0; i < g.length; i++) {
                    g[i] *= scale;
                }
            }
        }
        return norm;
    }
}
