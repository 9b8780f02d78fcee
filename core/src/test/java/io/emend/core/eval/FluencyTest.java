package io.emend.core.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FluencyTest {

    private static double h(double... p) {
        double s = 0;
        for (double x : p) {
            s -= x * Math.log(x) / Math.log(2);
        }
        return s;
    }

    @Test
    void weightedNGramEntropyOfWords() {
        // "a b a b a b": bigrams ab×3, ba×2; trigrams aba×2, bab×2.
        double expected = (2.0 / 3 * h(0.6, 0.4) + 4.0 / 3 * h(0.5, 0.5)) / 2;
        assertEquals(expected, Fluency.weightedEntropy("A b, a b. a B"), 1e-12);
        // A repetition collapses to 0; six distinct words give log2(5) and log2(4).
        assertEquals(0, Fluency.weightedEntropy("paris paris paris paris"), 1e-12);
        assertEquals((2.0 / 3 * Math.log(5) / Math.log(2) + 4.0 / 3 * 2) / 2,
                Fluency.weightedEntropy("one two three four five six"), 1e-12);
    }
}
