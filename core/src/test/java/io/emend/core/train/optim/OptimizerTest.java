package io.emend.core.train.optim;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** AdamW, the warmup + cosine schedule and global-norm clipping against their formulas, written out here. */
class OptimizerTest {

    @Test
    void adamWFollowsTheBiasCorrectedUpdateWithDecoupledDecay() {
        double lr = 0.01;
        double decay = 0.1;
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, decay);
        float[] p = {1.0f, -2.0f, 0.5f};
        float[][] grads = {{0.3f, -1.0f, 0f}, {0.1f, 0.5f, 0f}, {-0.2f, 0.25f, 0f}};
        double[] ref = {1.0, -2.0, 0.5};
        double[] m = new double[3];
        double[] v = new double[3];
        for (int t = 1; t <= grads.length; t++) {
            Map<String, float[]> values = new LinkedHashMap<>(Map.of("w", p));
            adam.step(values, Map.of("w", grads[t - 1]), lr);
            for (int i = 0; i < 3; i++) {
                double g = grads[t - 1][i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                ref[i] = ref[i] * (1 - lr * decay)
                        - lr * (m[i] / (1 - Math.pow(0.9, t))) / (Math.sqrt(v[i] / (1 - Math.pow(0.999, t))) + 1e-8);
            }
        }
        for (int i = 0; i < 3; i++) {
            // the optimizer keeps its moments in float; 1e-6 covers that rounding on values of size ~1
            assertEquals(ref[i], p[i], 1e-6, "p[" + i + "]");
        }
        // a parameter without gradient only decays: (1 - lr·λ)^3
        assertEquals(0.5 * Math.pow(1 - lr * decay, 3), p[2], 1e-7);
        assertEquals(3, adam.steps());
    }

    @Test
    void adamWMinimizesAQuadratic() {
        AdamW adam = AdamW.withWeightDecay(0);
        float[] x = {-4f};
        for (int t = 0; t < 2000; t++) {
            adam.step(Map.of("x", x), Map.of("x", new float[] {2 * (x[0] - 3)}), 0.05);
        }
        assertEquals(3.0, x[0], 0.05);
    }

    @Test
    void warmupIsLinearAndTheRestACosineToZero() {
        LearningRateSchedule s = new LearningRateSchedule(1e-3, 4, 104);
        assertEquals(0.25e-3, s.at(0), 1e-15, "the first step already moves");
        assertEquals(1e-3, s.at(3), 1e-15);
        assertEquals(1e-3, s.at(4), 1e-15, "peak right after warmup");
        assertEquals(0.5e-3, s.at(54), 1e-12, "half way through the cosine");
        assertEquals(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 99 / 100)), s.at(103), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3, 10, 10));
    }

    @Test
    void clippingScalesEveryGradientByTheGlobalNorm() {
        Map<String, float[]> g = new LinkedHashMap<>();
        g.put("a", new float[] {3f, 0f});
        g.put("b", new float[] {0f, 4f});
        assertEquals(5.0, GradientClipping.clip(g, 1.0), 1e-9, "returns the norm before clipping");
        assertEquals(1.0, GradientClipping.norm(g), 1e-5);
        assertEquals(0.6f, g.get("a")[0], 1e-5f, "direction kept");
        Map<String, float[]> small = Map.of("a", new float[] {0.3f, 0.4f});
        GradientClipping.clip(small, 1.0);
        assertEquals(0.3f, small.get("a")[0], 0f, "under the threshold nothing changes");
        Map<String, float[]> off = Map.of("a", new float[] {30f, 40f});
        GradientClipping.clip(off, 0);
        assertEquals(30f, off.get("a")[0], 0f, "0 turns clipping off");
    }
}
