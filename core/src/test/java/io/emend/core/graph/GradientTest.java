package io.emend.core.graph;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.emend.core.model.LlamaConfig;
import org.junit.jupiter.api.Test;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
    private static final String KEY_PROJECTION = "model.layers.0.self_attn.k_proj.weight";

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

    /**
     * Backward reads what the forward saved after the forward's own scope is closed. A saved array whose memory Java
     * owns (DJL stages arrays made from Java values in direct buffers) is freed by the next GC: the C heap writes its
     * free-list links over the first bytes and may hand the block out again. Here a GC runs between forward and
     * backward and the freed memory is refilled with NaN, so a gradient that reads any of it differs from one taken
     * right after the forward. The LoRA factors sit on k_proj, whose gradient passes through RoPE's cos and sin tables
     * at every position, the first included (a query at position 0 has one key, so its own gradient is zero).
     */
    @Test
    void gradientsDoNotReadMemoryFreedAfterTheForward() throws InterruptedException {
        LlamaConfig c = TinyModels.llamaConfig(false, false);
        SplittableRandom rng = new SplittableRandom(3);
        int in = c.hiddenSize();
        int out = c.numKvHeads() * c.headDim();
        float[] aValues = TransformerTest.gaussian(rng, in * 2, 0.3);
        float[] bValues = TransformerTest.gaussian(rng, 2 * out, 0.3);
        try (Transformer m = Transformer.load(c, TinyModels.llama(c, 5))) {
            float[] direct = keyProjectionGradient(m, aValues, bValues, false);
            float[] afterReuse = keyProjectionGradient(m, aValues, bValues, true);
            // the same ops on the same values on one thread: equal up to reduction order; a read of freed memory is
            // NaN or off by O(1)
            assertArrayEquals(direct, afterReuse, 1e-6f);
        }
    }

    /** d loss / d b of a LoRA delta on layer 0's k_proj; {@code reuse} refills freed memory before backward. */
    private static float[] keyProjectionGradient(Transformer m, float[] aValues, float[] bValues, boolean reuse)
            throws InterruptedException {
        try (NDManager scope = NDManager.newBaseManager()) {
            int out = (int) m.parameter(KEY_PROJECTION).getShape().get(1);
            NDArray a = scope.create(aValues, new Shape(aValues.length / 2, 2));
            NDArray b = scope.create(bValues, new Shape(2, out));
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            List<ByteBuffer> poison = new ArrayList<>();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                 NDManager step = scope.newSubManager()) {
                ForwardOptions o = ForwardOptions.defaults()
                        .withDelta(KEY_PROJECTION, new WeightDelta.LowRank(a, b, 2.0));
                NDArray loss = lossOf(m.forward(step, TokenBatch.of(IDS), o).logits(), step);
                if (reuse) {
                    poison = refillFreedMemory();
                }
                gc.backward(loss);
                Reference.reachabilityFence(poison);
            }
            try (NDArray g = b.getGradient()) {
                return g.toFloatArray();
            }
        }
    }

    /**
     * Collects garbage until the direct buffers the forward dropped are released, then takes buffers of every small
     * size (the forward's staging buffers are a few hundred bytes to a few KiB) filled with NaN, so the C heap hands
     * the freed blocks back to them.
     */
    private static List<ByteBuffer> refillFreedMemory() throws InterruptedException {
        BufferPoolMXBean pool = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).findFirst().orElseThrow();
        long before = pool.getCount();
        for (int i = 0; i < 50 && pool.getCount() >= before; i++) {
            System.gc();
            Thread.sleep(20);
        }
        List<ByteBuffer> held = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            for (int bytes = 16; bytes <= 16384; bytes += 16) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
                while (buffer.remaining() >= Float.BYTES) {
                    buffer.putFloat(Float.NaN);
                }
                held.add(buffer);
            }
        }
        return held;
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
        // the divisor through Constant: a number would be freed before backward reads it
        return logits.logSoftmax(2).mul(targets).sum().neg().div(Constant.of(logits, t));
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
