package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each graph op against its plain-Java definition. Inputs are O(1); float32 ops over rows of at most 64 elements are
 * within a few ulps of the double-precision definition, so 1e-5 absolute is a tight bound that a wrong formula (a
 * missing eps, an interleaved instead of rotate-half RoPE, a wrong head mapping) misses by orders of magnitude.
 */
class OpsTest {

    private static final double TOL = 1e-5;
    private static NDManager manager;
    private final SplittableRandom rng = new SplittableRandom(7);

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private float[] gaussian(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * std);
        }
        return a;
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + " element " + i);
        }
    }

    private static float[] row(float[] flat, int row, int width) {
        float[] r = new float[width];
        System.arraycopy(flat, row * width, r, 0, width);
        return r;
    }

    @Test
    void rmsNormMatchesDefinition() {
        int rows = 3;
        int dim = 48;
        float[] x = gaussian(rows * dim, 2.0);
        float[] w = gaussian(dim, 1.0);
        try (NDManager m = manager.newSubManager()) {
            float[] out = RmsNorm.apply(m.create(x, new Shape(rows, dim)), m.create(w), 1e-5).toFloatArray();
            for (int r = 0; r < rows; r++) {
                assertClose(RmsNorm.reference(row(x, r, dim), w, 1e-5), row(out, r, dim), TOL, "rms row " + r);
            }
        }
        // eps matters for tiny inputs: with x = 1e-3 everywhere, mean(x²) = 1e-6 is comparable to eps = 1e-5.
        float[] small = new float[8];
        java.util.Arrays.fill(small, 1e-3f);
        float[] ones = new float[8];
        java.util.Arrays.fill(ones, 1f);
        float expected = (float) (1e-3 / Math.sqrt(1e-6 + 1e-5));
        assertEquals(expected, RmsNorm.reference(small, ones, 1e-5)[0], 1e-6);
        try (NDManager m = manager.newSubManager()) {
            assertEquals(expected, RmsNorm.apply(m.create(small), m.create(ones), 1e-5).getFloat(0), 1e-5);
        }
    }

    @Test
    void layerNormMatchesDefinition() {
        int rows = 4;
        int dim = 64;
        float[] x = gaussian(rows * dim, 3.0);
        for (int i = 0; i < x.length; i++) {
            x[i] += 5f; // a large mean: the centering must happen before the variance
        }
        float[] w = gaussian(dim, 1.0);
        float[] b = gaussian(dim, 1.0);
        try (NDManager m = manager.newSubManager()) {
            float[] out = LayerNorm.apply(m.create(x, new Shape(rows, dim)), m.create(w), m.create(b), 1e-5)
                    .toFloatArray();
            for (int r = 0; r < rows; r++) {
                assertClose(LayerNorm.reference(row(x, r, dim), w, b, 1e-5), row(out, r, dim), TOL, "ln row " + r);
            }
        }
    }

    @Test
    void ropeRotatesHalvesWithTheta() {
        int d = 16;
        Rope rope = new Rope(d, 500000.0);
        int[][] positions = {{0, 1, 7, 300}, {5, 5, 2, 9}};
        int batch = 2;
        int heads = 3;
        int seq = 4;
        float[] x = gaussian(batch * heads * seq * d, 1.0);
        try (NDManager m = manager.newSubManager()) {
            NDList tables = rope.tables(m, positions);
            float[] out = rope.apply(m.create(x, new Shape(batch, heads, seq, d)), tables).toFloatArray();
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    for (int t = 0; t < seq; t++) {
                        int r = (b * heads + h) * seq + t;
                        float[] expected = rope.reference(row(x, r, d), positions[b][t]);
                        assertClose(expected, row(out, r, d), TOL, "rope b" + b + " h" + h + " t" + t);
                    }
                }
            }
        }
        // Position 0 is the identity; the pair (x[i], x[i + d/2]) keeps its norm at any position.
        float[] v = gaussian(d, 1.0);
        assertClose(v, rope.reference(v, 0), 1e-7, "rope at 0");
        float[] turned = rope.reference(v, 123);
        for (int i = 0; i < d / 2; i++) {
            double before = Math.hypot(v[i], v[i + d / 2]);
            double after = Math.hypot(turned[i], turned[i + d / 2]);
            assertEquals(before, after, 1e-5);
        }
        // theta enters as theta^(-2i/d): the second frequency for d=16, theta=500000 is 500000^(-1/8).
        assertEquals(Math.pow(500000.0, -0.125), rope.inverseFrequencies()[1], 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new Rope(7, 10000));
    }

    @Test
    void gqaHeadMappingAndMaskMatchDefinition() {
        int batch = 2;
        int heads = 6;
        int kvHeads = 2;
        int seq = 5;
        int d = 8;
        int[][] keyMask = {{0, 0, 1, 1, 1}, {1, 1, 1, 1, 0}}; // left padding in row 0, right padding in row 1
        float[] q = gaussian(batch * heads * seq * d, 1.0);
        float[] k = gaussian(batch * kvHeads * seq * d, 1.0);
        float[] v = gaussian(batch * kvHeads * seq * d, 1.0);
        try (NDManager m = manager.newSubManager()) {
            NDArray keys = m.create(k, new Shape(batch, kvHeads, seq, d));
            NDArray out = Attention.attend(m.create(q, new Shape(batch, heads, seq, d)), keys.transpose(0, 1, 3, 2),
                    m.create(v, new Shape(batch, kvHeads, seq, d)), AttentionMask.additive(m, keyMask, seq));
            float[] flat = out.toFloatArray();
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    int kv = Attention.kvHeadOf(h, heads, kvHeads);
                    float[][] kr = new float[seq][];
                    float[][] vr = new float[seq][];
                    for (int j = 0; j < seq; j++) {
                        kr[j] = row(k, (b * kvHeads + kv) * seq + j, d);
                        vr[j] = row(v, (b * kvHeads + kv) * seq + j, d);
                    }
                    for (int i = 0; i < seq; i++) {
                        boolean[] visible = new boolean[seq];
                        boolean any = false;
                        for (int j = 0; j < seq; j++) {
                            visible[j] = AttentionMask.visible(keyMask, b, i, j, seq);
                            any |= visible[j];
                        }
                        if (!any) {
                            continue; // a padding query: its output is defined to be unused
                        }
                        float[] expected = Attention.reference(row(q, (b * heads + h) * seq + i, d), kr, vr, visible);
                        assertClose(expected, row(flat, (b * heads + h) * seq + i, d), TOL,
                                "attention b" + b + " h" + h + " i" + i);
                    }
                }
            }
            assertTrue(java.util.Arrays.stream(toDoubles(flat)).allMatch(Double::isFinite),
                    "fully masked padding queries stay finite");
        }
        assertEquals(0, Attention.kvHeadOf(2, 6, 2));
        assertEquals(1, Attention.kvHeadOf(3, 6, 2));
        assertEquals(3, Attention.kvHeadOf(7, 8, 4));
    }

    @Test
    void maskIsCausalOverPastAndPadding() {
        // Two cached positions (the first is padding) followed by a chunk of two queries.
        int[][] keyMask = {{0, 1, 1, 1}};
        assertFalse(AttentionMask.visible(keyMask, 0, 0, 0, 2), "padding is hidden");
        assertTrue(AttentionMask.visible(keyMask, 0, 0, 1, 2), "past is visible");
        assertTrue(AttentionMask.visible(keyMask, 0, 0, 2, 2), "a query sees itself");
        assertFalse(AttentionMask.visible(keyMask, 0, 0, 3, 2), "the future is hidden");
        assertTrue(AttentionMask.visible(keyMask, 0, 1, 3, 2));
        try (NDManager m = manager.newSubManager()) {
            float[] mask = AttentionMask.additive(m, keyMask, 2).toFloatArray();
            assertEquals(8, mask.length);
            float h = AttentionMask.HIDDEN;
            assertClose(new float[] {h, 0, 0, h, h, 0, 0, 0}, mask, 0, "mask");
        }
        assertThrows(IllegalArgumentException.class, () -> AttentionMask.additive(manager, keyMask, 5));
    }

    @Test
    void activationsMatchDefinitions() {
        float[] x = gaussian(200, 3.0);
        float[] y = gaussian(200, 3.0);
        try (NDManager m = manager.newSubManager()) {
            float[] gelu = Gelu.tanhApproximation(m.create(x)).toFloatArray();
            float[] swiglu = SwiGlu.apply(m.create(x), m.create(y)).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(Gelu.reference(x[i]), gelu[i], TOL * Math.max(1, Math.abs(x[i])), "gelu " + x[i]);
                assertEquals(SwiGlu.reference(x[i], y[i]), swiglu[i], TOL * Math.max(1, Math.abs(x[i] * y[i])),
                        "swiglu " + x[i]);
            }
        }
        // gelu_new is the tanh form, not erf: at x = 1 they differ by ~1.6e-4, which this pins.
        assertEquals(0.8411920, Gelu.reference(1.0), 1e-6);
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
