package io.emend.core.merge;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskArithmeticTest {

    private static final Map<String, Double> W1 = Map.of("weight", 1.0, "density", 1.0);

    @Test
    void lambdaScalesTheWeightedSumOfTaskVectors() {
        float[] base = {1, 1, 1, 1};
        float[] m1 = {2, 0, 1, 3};   // δ1 = [1, -1, 0, 2]
        float[] m2 = {1, 3, -1, 1};  // δ2 = [0, 2, -2, 0]
        // 0.5 · (1·δ1 + 0.5·δ2) = 0.5 · [1, 0, -1, 2]
        float[] out = Merges.run(TaskArithmetic.plain(), base, List.of(m1, m2),
                List.of(Map.of("weight", 1.0), Map.of("weight", 0.5)), Map.of("lambda", 0.5, "normalize", 0.0));
        assertArrayEquals(new float[] {1.5f, 1f, 0.5f, 2f}, out, 0f);
        // normalize divides by Σw = 1.5 before λ: 0.5 · [1, 0, -1, 2] / 1.5
        float[] normalized = Merges.run(TaskArithmetic.plain(), base, List.of(m1, m2),
                List.of(Map.of("weight", 1.0), Map.of("weight", 0.5)), Map.of("lambda", 0.5, "normalize", 1.0));
        assertArrayEquals(new float[] {(float) (1 + 0.5 / 1.5), 1f, (float) (1 - 0.5 / 1.5), (float) (1 + 1 / 1.5)},
                normalized, 0f);
    }

    @Test
    void lambdaZeroGivesTheBaseBitForBit() {
        Random r = new Random(3);
        float[] base = Merges.random(r, 500);
        base[7] = -0.0f;
        float[] out = Merges.run(TaskArithmetic.plain(), base, List.of(Merges.random(r, 500), Merges.random(r, 500)),
                List.of(Map.of("weight", 1.0), Map.of("weight", 2.0)), Map.of("lambda", 0.0, "normalize", 0.0));
        for (int i = 0; i < base.length; i++) {
            assertEquals(Float.floatToRawIntBits(base[i]), Float.floatToRawIntBits(out[i]), "element " + i);
        }
    }

    @Test
    void tiesElectsSignsBySummedMassAndTakesTheDisjointMean() {
        float[] base = new float[5];
        float[] m1 = {3, -1, 2, 0, -4};
        float[] m2 = {-1, -2, 2, 5, 1};
        float[] m3 = {-1, 4, 0, 0, 1};
        // Column by column (weights 1): mass 1 → + keeps 3; mass 1 → + keeps 4; mass 4 → mean of 2 and 2;
        // mass 5 → 5; mass -2 → - keeps -4.
        float[] out = Merges.run(TaskArithmetic.ties(), base, List.of(m1, m2, m3), List.of(W1, W1, W1),
                Map.of("lambda", 1.0, "normalize", 1.0));
        assertArrayEquals(new float[] {3, 4, 2, 5, -4}, out, 0f);
    }

    @Test
    void tiesTrimsEachTaskVectorToItsLargestMagnitudes() {
        float[] base = new float[5];
        Map<String, Double> d = Map.of("weight", 1.0, "density", 0.4);
        // ⌊0.4·5⌋ = 2 kept per model; ties at the threshold are kept in index order:
        // δ1 → [3,0,0,0,-4]; δ2 → [0,-2,0,5,0]; δ3 → [-1,4,0,0,0]; column 2 is all zero, so it keeps the base.
        float[] out = Merges.run(TaskArithmetic.ties(), base,
                List.of(new float[] {3, -1, 2, 0, -4}, new float[] {-1, -2, 2, 5, 1}, new float[] {-1, 4, 0, 0, 1}),
                List.of(d, d, d), Map.of("lambda", 1.0, "normalize", 1.0));
        assertArrayEquals(new float[] {3, 4, 0, 5, -4}, out, 0f);
    }

    @Test
    void tiesElectsByWeightedMassNotByCount() {
        float[] base = {10};
        // weighted deltas 1·2 = 2 and 3·(−1) = −3: the minus side wins although each side has one model;
        // disjoint mean = −3 / 3 = −1.
        float[] out = Merges.run(TaskArithmetic.ties(), base, List.of(new float[] {12}, new float[] {9}),
                List.of(Map.of("weight", 1.0, "density", 1.0), Map.of("weight", 3.0, "density", 1.0)),
                Map.of("lambda", 1.0, "normalize", 1.0));
        assertArrayEquals(new float[] {9}, out, 0f);
    }

    @Test
    void tiesWithDensityOneAndOneModelEqualsTaskArithmetic() {
        Random r = new Random(4);
        float[] base = Merges.random(r, 300);
        float[] m = Merges.random(r, 300);
        Map<String, Double> global = Map.of("lambda", 0.7, "normalize", 1.0);
        assertArrayEquals(Merges.run(TaskArithmetic.plain(), base, List.of(m), List.of(Map.of("weight", 0.8)), global),
                Merges.run(TaskArithmetic.ties(), base, List.of(m), List.of(Map.of("weight", 0.8, "density", 1.0)), global),
                0f);
    }

    @Test
    void dareWithNoDropEqualsItsCombiner() {
        Random r = new Random(5);
        float[] base = Merges.random(r, 300);
        List<float[]> models = List.of(Merges.random(r, 300), Merges.random(r, 300));
        List<Map<String, Double>> p = List.of(Map.of("weight", 0.6, "density", 1.0), Map.of("weight", 0.9, "density", 1.0));
        Map<String, Double> global = Map.of("lambda", 1.0, "normalize", 1.0, "rescale", 1.0);
        assertArrayEquals(Merges.run(TaskArithmetic.plain(), base, models, p, global),
                Merges.run(TaskArithmetic.dareLinear(), base, models, p, global), 0f);
        assertArrayEquals(Merges.run(TaskArithmetic.ties(), base, models, p, global),
                Merges.run(TaskArithmetic.dareTies(), base, models, p, global), 0f);
    }

    @Test
    void dareRescaleKeepsTheExpectedDelta() {
        int n = 200_000;
        float[] base = new float[n];
        float[] model = new float[n];
        java.util.Arrays.fill(model, 1f);
        double density = 0.3;
        float[] out = Merges.run(TaskArithmetic.dareLinear(), base, List.of(model),
                List.of(Map.of("weight", 1.0, "density", density)),
                Map.of("lambda", 1.0, "normalize", 0.0, "rescale", 1.0), 4096);
        long kept = 0;
        double sum = 0;
        for (float v : out) {
            if (v != 0) {
                kept++;
                assertEquals(1 / density, v, 1e-6, "a kept element is rescaled by 1/density");
            }
            sum += v;
        }
        // Kept fraction ~ Binomial(n, p)/n: σ = sqrt(p(1−p)/n) ≈ 0.001, so 0.01 is 10σ.
        assertEquals(density, kept / (double) n, 0.01);
        // Each element is 0 or 1/p with mean 1 and variance 1/p − 1 ≈ 2.33: σ of the mean ≈ 0.0034; 0.03 is ~9σ.
        assertEquals(1.0, sum / n, 0.03);
    }

    @Test
    void dareIsReproducibleForASeedAndDiffersAcrossSeeds() {
        Random r = new Random(6);
        float[] base = Merges.random(r, 1000);
        float[] m = Merges.random(r, 1000);
        List<Map<String, Double>> p = List.of(Map.of("weight", 1.0, "density", 0.5));
        Map<String, Double> g = Map.of("lambda", 1.0, "normalize", 0.0, "rescale", 1.0);
        float[] once = Merges.run(TaskArithmetic.dareLinear(), base, List.of(m), p, g, 100);
        float[] twice = Merges.run(TaskArithmetic.dareLinear(), base, List.of(m), p, g, 333);
        assertArrayEquals(once, twice, 0f, "same seed, different chunking: same draws");
        float[] other = new float[1000];
        TaskArithmetic.dareLinear().merge(new TensorMerge("t", java.util.Optional.of(TensorView.of(base, "base")),
                List.of(TensorView.of(m, "m")), List.of(TensorParameters.of(p.getFirst())), TensorParameters.of(g), 43L,
                TensorSink.of(other), 100));
        assertFalse(java.util.Arrays.equals(once, other));
    }

    @Test
    void densityOutsideTheUnitIntervalIsRejected() {
        MergeException e = assertThrows(MergeException.class, () -> Merges.run(TaskArithmetic.ties(), new float[2],
                List.of(new float[] {1, 2}), List.of(Map.of("weight", 1.0, "density", 1.5)),
                Map.of("lambda", 1.0, "normalize", 1.0)));
        assertTrue(e.getMessage().contains("density 1.5"), e.getMessage());
    }

    @Test
    void needsABase() {
        MergeException e = assertThrows(MergeException.class, () -> Merges.run(TaskArithmetic.plain(), null,
                List.of(new float[] {1}), List.of(Map.of("weight", 1.0)), Map.of("lambda", 1.0, "normalize", 0.0)));
        assertTrue(e.getMessage().contains("base_model"), e.getMessage());
    }
}
