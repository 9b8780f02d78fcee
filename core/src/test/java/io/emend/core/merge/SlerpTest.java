package io.emend.core.merge;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlerpTest {

    private final Slerp slerp = new Slerp();

    private float[] run(float[] v0, float[] v1, double t) {
        return Merges.run(slerp, v0, List.of(v1), List.of(Map.of()), Map.of("t", t), 3);
    }

    @Test
    void endpointsReturnTheInputsBitForBit() {
        Random r = new Random(9);
        float[] v0 = Merges.random(r, 257);
        float[] v1 = Merges.random(r, 257);
        assertArrayEquals(v0, run(v0, v1, 0), 0f);
        assertArrayEquals(v1, run(v0, v1, 1), 0f);
    }

    @Test
    void interpolatesAlongTheArcForOrthogonalTensors() {
        // v0 ⟂ v1 with equal norms: θ = 90°, so t = 0.5 lands on the unit circle at 45°, where lerp would give 0.5.
        float[] out = run(new float[] {1, 0}, new float[] {0, 1}, 0.5);
        // F32 rounding of cos 45° is within 1 ulp (6e-8); 1e-6 leaves room for the double-to-float step.
        assertArrayEquals(new float[] {(float) Math.sqrt(0.5), (float) Math.sqrt(0.5)}, out, 1e-6f);
        float[] third = run(new float[] {1, 0}, new float[] {0, 1}, 1.0 / 3);
        assertArrayEquals(new float[] {(float) Math.cos(Math.PI / 6), (float) Math.sin(Math.PI / 6)}, third, 1e-6f);
    }

    @Test
    void parallelTensorsFallBackToLinearInterpolation() {
        float[] v0 = {1, 2, 3};
        float[] v1 = {2, 4, 6};
        // 0.75·v0 + 0.25·2·v0 = 1.25·v0, exact in binary
        assertArrayEquals(new float[] {1.25f, 2.5f, 3.75f}, run(v0, v1, 0.25), 0f);
    }

    @Test
    void theParallelCutOffIsTheDeclaredEpsilon() {
        double justInside = 1 - Slerp.PARALLEL_EPSILON / 2;
        assertArrayEquals(new double[] {0.7, 0.3}, Slerp.coefficients(justInside, 1, 1, 0.3), 0);
        double justOutside = 1 - Slerp.PARALLEL_EPSILON * 2;
        double[] s = Slerp.coefficients(justOutside, 1, 1, 0.3);
        double theta = Math.acos(justOutside);
        assertEquals(Math.sin(0.7 * theta) / Math.sin(theta), s[0], 1e-12);
        assertTrue(s[0] != 0.7);
        assertArrayEquals(new double[] {0.6, 0.4}, Slerp.coefficients(0, 0, 1, 0.4), 0, "zero norm: no direction, lerp");
    }

    @Test
    void needsExactlyTwoModels() {
        MergeException e = assertThrows(MergeException.class, () -> Merges.run(slerp, new float[] {1},
                List.of(new float[] {1}, new float[] {2}), List.of(Map.of(), Map.of()), Map.of("t", 0.5)));
        assertTrue(e.getMessage().contains("exactly one other model"), e.getMessage());
    }
}
