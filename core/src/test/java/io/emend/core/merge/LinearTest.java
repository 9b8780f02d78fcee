package io.emend.core.merge;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearTest {

    private final Linear linear = new Linear();

    @Test
    void weightedAverageMatchesHandComputedValues() {
        float[] a = {1, 2, 3, 4};
        float[] b = {3, 2, 1, 0};
        // (1·a + 3·b) / 4, exact in binary: every value is a multiple of 0.5
        float[] out = Merges.run(linear, null, List.of(a, b), List.of(Map.of("weight", 1.0), Map.of("weight", 3.0)),
                Map.of("normalize", 1.0));
        assertArrayEquals(new float[] {2.5f, 2f, 1.5f, 1f}, out, 0f);
        float[] sum = Merges.run(linear, null, List.of(a, b), List.of(Map.of("weight", 1.0), Map.of("weight", 3.0)),
                Map.of("normalize", 0.0));
        assertArrayEquals(new float[] {10f, 8f, 6f, 4f}, sum, 0f);
    }

    @Test
    void mergingAModelWithItselfReturnsItBitForBit() {
        float[] x = Merges.random(new Random(1), 1000);
        float[] out = Merges.run(linear, null, List.of(x, x, x),
                List.of(Map.of("weight", 0.3), Map.of("weight", 0.7), Map.of("weight", 0.11)), Map.of("normalize", 1.0), 64);
        assertArrayEquals(x, out, 0f);
    }

    @Test
    void chunkingDoesNotChangeTheResult() {
        Random r = new Random(2);
        float[] a = Merges.random(r, 101);
        float[] b = Merges.random(r, 101);
        List<Map<String, Double>> w = List.of(Map.of("weight", 0.25), Map.of("weight", 1.5));
        assertArrayEquals(Merges.run(linear, null, List.of(a, b), w, Map.of("normalize", 1.0)),
                Merges.run(linear, null, List.of(a, b), w, Map.of("normalize", 1.0), 7), 0f);
    }

    @Test
    void weightsSummingToZeroAreRejectedWhenNormalizing() {
        MergeException e = assertThrows(MergeException.class, () -> Merges.run(linear, null,
                List.of(new float[] {1}, new float[] {2}), List.of(Map.of("weight", 1.0), Map.of("weight", -1.0)),
                Map.of("normalize", 1.0)));
        assertTrue(e.getMessage().contains("sum to"), e.getMessage());
    }

    @Test
    void nonFiniteInputsAreRejectedNamingTheModel() {
        MergeException e = assertThrows(MergeException.class, () -> Merges.run(linear, null,
                List.of(new float[] {1, 2}, new float[] {2, Float.NaN}), List.of(Map.of("weight", 1.0), Map.of("weight", 1.0)),
                Map.of("normalize", 1.0)));
        assertTrue(e.getMessage().contains("model 2") && e.getMessage().contains("element 1"), e.getMessage());
    }
}
