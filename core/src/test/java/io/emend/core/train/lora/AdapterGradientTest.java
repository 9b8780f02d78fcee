package io.emend.core.train.lora;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradients of the LoRA and DoRA factors through the whole tiny-llama forward, against central finite differences of
 * the same loss. B starts at zero in training, which would hide errors in A's path; the factors are set to random
 * values first, and DoRA's magnitude is perturbed away from ‖W‖ so that every term of W' = m·(W+sAB)/‖W+sAB‖ matters.
 *
 * <p>Tolerance: the loss (a weighted sum of logits, ~1) is computed in float32, so each evaluation carries ~1e-6
 * rounding noise; with h = 1e-2 the central difference's noise is ~1e-4 and its truncation error h²·f'''/6 ~1e-5
 * relative. |fd − grad| ≤ 2e-3 + 2% passes a correct gradient and fails a wrong or missing term, which changes
 * entries by O(their size), and the entries checked are the largest ones (≥ 1e-2).
 */
class AdapterGradientTest {

    private static final double H = 1e-2;
    private static final int[] IDS = {3, 100, 17, 250, 42, 9, 77, 130};

    @Test
    void loraGradientsMatchFiniteDifferences() throws IOException {
        check(false);
    }

    @Test
    void doraGradientsMatchFiniteDifferences() throws IOException {
        check(true);
    }

    private void check(boolean dora) throws IOException {
        try (Transformer model = Transformer.open(Fixtures.model("tiny-llama"), Optional.empty());
             AdapterParameters p = new AdapterParameters(model, 2, 4, dora, List.of("q_proj", "down_proj"), false, 5,
                     List.of());
             NDManager scope = NDManager.newBaseManager()) {
            SplittableRandom random = new SplittableRandom(11);
            Map<String, float[]> values = new LinkedHashMap<>();
            p.values().forEach((k, v) -> {
                float[] x = v.clone();
                for (int i = 0; i < x.length; i++) {
                    x[i] = k.endsWith("magnitude_vector") ? x[i] * (float) (0.5 + random.nextDouble())
                            : (float) (random.nextGaussian() * 0.3);
                }
                values.put(k, x);
            });
            p.load(values);
            float[] weights = new float[IDS.length * model.config().vocabSize()];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) random.nextGaussian();
            }
            try (NDManager s = scope.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss(model, p, s, weights));
            }
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : p.arrays().entrySet()) {
                try (NDArray g = e.getValue().getGradient()) {
                    grads.put(e.getKey(), g.toFloatArray());
                }
            }
            assertEquals(dora ? 12 : 8, grads.size(), "A and B (and m) for 2 layers x 2 targets");
            for (Map.Entry<String, float[]> e : grads.entrySet()) {
                float[] g = e.getValue();
                int best = 0;
                for (int i = 1; i < g.length; i++) {
                    if (Math.abs(g[i]) > Math.abs(g[best])) {
                        best = i;
                    }
                }
                int other = random.nextInt(g.length);
                assertTrue(Math.abs(g[best]) > 1e-2, e.getKey() + " has a non-trivial gradient");
                for (int idx : new int[] {best, other}) {
                    double fd = (lossAt(model, p, values, e.getKey(), idx, H, scope, weights)
                            - lossAt(model, p, values, e.getKey(), idx, -H, scope, weights)) / (2 * H);
                    assertEquals(fd, g[idx], 2e-3 + 0.02 * Math.abs(fd),
                            e.getKey() + "[" + idx + "]: finite difference " + fd + " vs autograd " + g[idx]);
                }
            }
        }
    }

    private static double lossAt(Transformer model, AdapterParameters p, Map<String, float[]> values, String name,
                                 int idx, double h, NDManager scope, float[] weights) {
        Map<String, float[]> shifted = new LinkedHashMap<>(values);
        float[] x = values.get(name).clone();
        x[idx] += (float) h;
        shifted.put(name, x);
        p.load(shifted);
        try (NDManager s = scope.newSubManager()) {
            return loss(model, p, s, weights).getFloat();
        } finally {
            p.load(values);
        }
    }

    /** A fixed random linear function of all logits: every logit's gradient path counts. */
    private static NDArray loss(Transformer model, AdapterParameters p, NDManager s, float[] weights) {
        NDArray logits = model.forward(s, TokenBatch.of(IDS), ForwardOptions.defaults().withDeltas(p.deltas(s)))
                .logits();
        return logits.mul(s.create(weights, logits.getShape())).sum().div(IDS.length);
    }
}
