package io.emend.core.graph;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.emend.core.model.LlamaConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Autograd through the forward, checked against central finite differences of the same loss (mean next-token
 * cross-entropy). The finite differences re-run the forward with one perturbed entry: for a weight, by reloading the
 * checkpoint with that entry changed, so the check does not rely on the delta code it also covers.
 *
 * <p>Tolerance: with step 1e-2 on entries of size ~0.3, the central difference's truncation error (h²/6 · f''') is
 * ~1e-4 relative, and float32 logit noise (~1e-6) divided by 2h adds ~5e-5 absolute; so |fd - grad| ≤ 1e-3 + 2% is
 * loose for a correct gradient yet fails for a missing term (a dropped path changes gradients by O(1) relative).
 */
class GradientTest {

    private static final double H = 1e-2;
    private static final int[] IDS = {5, 17, 33, 2, 60, 9, 41, 7};

    @Test
    void gradientsOfWeightsLowRankFactorsAndInterventionsMatchFiniteDifferences() {
        LlamaConfig c = TinyModels.llamaConfig(false, true);
        InMemoryTensors ckpt = TinyModels.llama(c, 31);
        SplittableRandom rng = new SplittableRandom(8);
        String weight = "model.layers.0.self_attn.q_proj.weight";
        String adapted = "model.layers.1.mlp.down_proj.weight";
        int in = c.intermediateSize();
        int out = c.hiddenSize();
        int rank = 2;
        float[] aValues = TransformerTest.gaussian(rng, in * rank, 0.3);
        float[] bValues = TransformerTest.gaussian(rng, rank * out, 0.3);
        float[] shiftValues = TransformerTest.gaussian(rng, out, 0.3);

        float[] gradW;
        float[] gradA;
        float[] gradShift;
        try (NDManager scope = NDManager.newBaseManager(); Transformer m = Transformer.load(c, ckpt)) {
            NDArray w = m.parameter(weight);
            w.setRequiresGradient(true);
            NDArray a = scope.create(aValues, new Shape(in, rank));
            NDArray b = scope.create(bValues, new Shape(rank, out));
            NDArray shift = scope.create(shiftValues);
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            shift.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                 NDManager step = scope.newSubManager()) {
                ForwardOptions o = options(a, b, shift);
                NDArray logits = m.forward(step, TokenBatch.of(IDS), o).logits();
                gc.backward(lossOf(logits, step));
            }
            try (NDArray g = w.getGradient(); NDArray ga = a.getGradient(); NDArray gs = shift.getGradient()) {
                gradW = g.toFloatArray();
                gradA = ga.toFloatArray();
                gradShift = gs.toFloatArray();
            }
        }

        // The weight: stored [in, out] in the graph, [out, in] in the checkpoint.
        int wIn = c.hiddenSize();
        int wOut = c.numHeads() * c.headDim();
        for (int idx : pick(gradW, rng)) {
            int i = idx / wOut;
            int o = idx % wOut;
            int fileIndex = o * wIn + i;
            double fd = centralDifference(delta -> {
                InMemoryTensors perturbed = TinyModels.llama(c, 31);
                float[] v = perturbed.floats(weight);
                v[fileIndex] += delta.floatValue();
                perturbed.put(weight, v, wOut, wIn);
                try (Transformer pm = Transformer.load(c, perturbed)) {
                    return lossWith(pm, aValues, bValues, shiftValues);
                }
            });
            assertGradient(fd, gradW[idx], weight + " entry " + idx);
        }
        try (Transformer m = Transformer.load(c, ckpt)) {
            for (int idx : pick(gradA, rng)) {
                double fd = centralDifference(delta -> {
                    float[] a = aValues.clone();
                    a[idx] += delta.floatValue();
                    return lossWith(m, a, bValues, shiftValues);
                });
                assertGradient(fd, gradA[idx], "low-rank factor a entry " + idx);
            }
            for (int idx : pick(gradShift, rng)) {
                double fd = centralDifference(delta -> {
                    float[] s = shiftValues.clone();
                    s[idx] += delta.floatValue();
                    return lossWith(m, aValues, bValues, s);
                });
                assertGradient(fd, gradShift[idx], "intervention shift entry " + idx);
            }
        }
    }

    private static ForwardOptions options(NDArray a, NDArray b, NDArray shift) {
        return ForwardOptions.defaults()
                .withDelta("model.layers.1.mlp.down_proj.weight", new WeightDelta.LowRank(a, b, 0.5))
                .withIntervention((p, v) -> p.equals(Probe.mlpDownOutput(0)) ? v.add(shift) : v);
    }

    /** Mean cross-entropy of predicting IDS[t+1] at position t. */
    private static NDArray lossOf(NDArray logits, NDManager m) {
        int t = IDS.length - 1;
        int vocab = (int) logits.getShape().get(2);
        float[] oneHot = new float[IDS.length * vocab];
        for (int i = 0; i < t; i++) {
            oneHot[i * vocab + IDS[i + 1]] = 1f;
        }
        NDArray targets = m.create(oneHot, new Shape(1, IDS.length, vocab));
        return logits.logSoftmax(2).mul(targets).sum().neg().div(t);
    }

    /** The same loss in double precision from float logits, for the finite differences. */
    private static double lossWith(Transformer m, float[] a, float[] b, float[] shift) {
        try (NDManager s = NDManager.newBaseManager()) {
            ForwardOptions o = options(s.create(a, new Shape(a.length / 2, 2)), s.create(b, new Shape(2, b.length / 2)),
                    s.create(shift));
            float[][] rows = TransformerTest.rows(m.forward(s, TokenBatch.of(IDS), o).logits().toFloatArray(),
                    IDS.length);
            double total = 0;
            for (int i = 0; i + 1 < IDS.length; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (float v : rows[i]) {
                    max = Math.max(max, v);
                }
                double sum = 0;
                for (float v : rows[i]) {
                    sum += Math.exp(v - max);
                }
                total += max + Math.log(sum) - rows[i][IDS[i + 1]];
            }
            return total / (IDS.length - 1);
        }
    }

    private static double centralDifference(Function<Double, Double> loss) {
        return (loss.apply(H) - loss.apply(-H)) / (2 * H);
    }

    /** The three largest-magnitude entries and two random ones. */
    private static List<Integer> pick(float[] grad, SplittableRandom rng) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < grad.length; i++) {
            order.add(i);
        }
        order.sort((x, y) -> Float.compare(Math.abs(grad[y]), Math.abs(grad[x])));
        List<Integer> picked = new ArrayList<>(order.subList(0, 3));
        picked.add(rng.nextInt(grad.length));
        picked.add(rng.nextInt(grad.length));
        assertTrue(Math.abs(grad[order.get(0)]) > 1e-3, "the gradient is not identically zero");
        return picked;
    }

    private static void assertGradient(double fd, float grad, String what) {
        double tol = 1e-3 + 0.02 * Math.abs(fd);
        assertEquals(fd, grad, tol, what + ": finite difference " + fd + " vs autograd " + grad);
    }
}
