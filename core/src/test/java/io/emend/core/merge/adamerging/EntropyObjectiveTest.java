package io.emend.core.merge.adamerging;

import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EntropyObjectiveTest {

    @Test
    void layerWiseGradientMatchesCentralFiniteDifferences() throws Exception {
        FineTunedPair pair = FineTunedPair.get();
        TextSample sample;
        try (Tokenizer tokenizer = Tokenizer.load(FineTunedPair.BASE)) {
            sample = TextSample.of(Files.readString(pair.unlabeled), tokenizer, 48, 4, 4);
        }
        try (EntropyObjective objective = EntropyObjective.load(FineTunedPair.BASE, List.of(pair.stories, pair.wiki),
                Granularity.LAYER)) {
            // stories260k: 5 layers plus the group outside them
            assertEquals(6, objective.groups().size());
            double[][] lambda = new double[2][6];
            for (int g = 0; g < 6; g++) {
                lambda[0][g] = 0.2 + 0.1 * g;
                lambda[1][g] = 0.7 - 0.08 * g;
            }
            var batch = sample.batches().getFirst();
            EntropyObjective.Evaluation e = objective.valueAndGradient(lambda, batch);
            assertEquals(objective.value(lambda, batch).entropy(), e.entropy(), 1e-6);
            double largest = 0;
            for (double[] row : e.gradient()) {
                for (double v : row) {
                    largest = Math.max(largest, Math.abs(v));
                }
            }
            assertTrue(largest > 1e-3, "the task vectors must move the entropy, got a gradient of " + largest);
            // The forward runs in F32: with h = 0.01 the rounding error of a difference is about
            // 1e-6 · entropy / h ≈ 5e-4, and the truncation error h²·f'''/6 is far below it.
            double h = 0.01;
            for (int k = 0; k < 2; k++) {
                for (int g = 0; g < 6; g++) {
                    double[][] plus = copy(lambda);
                    double[][] minus = copy(lambda);
                    plus[k][g] += h;
                    minus[k][g] -= h;
                    double fd = (objective.value(plus, batch).entropy() - objective.value(minus, batch).entropy()) / (2 * h);
                    assertEquals(fd, e.gradient()[k][g], 2e-3 + 0.02 * Math.abs(fd),
                            "d entropy / d lambda[" + k + "][" + g + "]");
                }
            }
        }
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
