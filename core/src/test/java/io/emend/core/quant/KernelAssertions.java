package io.emend.core.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Checks shared by the per-format kernel tests: every vector kernel against its scalar twin. */
final class KernelAssertions {

    /** The widths every kernel is run at, whatever the host prefers (wider ones are emulated, still exact). */
    static final List<VectorSpecies<Float>> WIDTHS = List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256,
            FloatVector.SPECIES_512);

    private KernelAssertions() {
    }

    static float[] gaussian(Random random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    /**
     * Float32 summation in any order is within {@code n·u·Σ|w·x|} of the exact sum (u = 2^-24, Higham's bound for
     * recursive and pairwise summation alike); scalar and vector each carry that error, and Q8_0/Q4_0 add one rounding
     * for the scale, so {@code 2(n+2)·u·Σ|w·x|} bounds their difference. A real kernel bug (a lane dropped, a nibble
     * swapped) changes the result by a whole term, far above it.
     */
    static double tolerance(WeightTensor t, int row, float[] x, int xOffset) {
        float[] w = new float[t.cols()];
        t.readRowScalar(row, w, 0);
        double abs = 0;
        for (int i = 0; i < w.length; i++) {
            abs += Math.abs((double) w[i] * x[xOffset + i]);
        }
        return 2.0 * (t.cols() + 2) * 0x1p-24 * abs + Float.MIN_NORMAL;
    }

    /** The dot in double from the dequantized row: the meaning both kernels must approximate. */
    static double exactDot(WeightTensor t, int row, float[] x, int xOffset) {
        float[] w = new float[t.cols()];
        t.readRowScalar(row, w, 0);
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            s += (double) w[i] * x[xOffset + i];
        }
        return s;
    }

    /** dot, dot4Rows, dot4, matVec and matMul: vector at every width against scalar, and both against the exact dot. */
    static void assertKernelsAgree(WeightTensor t, Random random) {
        int xOffset = 3; // activations deliberately not at the array start
        float[][] xs = new float[5][];
        for (int b = 0; b < xs.length; b++) {
            xs[b] = gaussian(random, t.cols() + xOffset, 1.0);
        }
        for (int row = 0; row < t.rows(); row++) {
            float[] scalarRow = new float[t.cols() + 2];
            t.readRowScalar(row, scalarRow, 2);
            for (VectorSpecies<Float> s : WIDTHS) {
                float[] vectorRow = new float[t.cols() + 2];
                t.readRowVector(s, row, vectorRow, 2);
                org.junit.jupiter.api.Assertions.assertArrayEquals(scalarRow, vectorRow, s + " readRow, row " + row);
            }
            float[] hostRow = new float[t.cols() + 2];
            t.readRow(row, hostRow, 2);
            org.junit.jupiter.api.Assertions.assertArrayEquals(scalarRow, hostRow, "readRow, row " + row);
            for (float[] x : xs) {
                double tol = tolerance(t, row, x, xOffset);
                double exact = exactDot(t, row, x, xOffset);
                float scalar = t.dotScalar(row, x, xOffset);
                assertEquals(exact, scalar, tol, "scalar dot, row " + row);
                for (VectorSpecies<Float> s : WIDTHS) {
                    assertEquals(scalar, t.dotVector(s, row, x, xOffset), tol, s + " dot, row " + row);
                }
            }
            float[] fourRows = new float[4];
            int[] rows = {row, (row + 1) % t.rows(), row, (row + 2) % t.rows()}; // a repeated row, as matVec's tail has
            for (VectorSpecies<Float> s : WIDTHS) {
                t.dot4RowsVector(s, rows[0], rows[1], rows[2], rows[3], xs[1], xOffset, fourRows);
                for (int i = 0; i < 4; i++) {
                    assertEquals(t.dotScalar(rows[i], xs[1], xOffset), fourRows[i], tolerance(t, rows[i], xs[1], xOffset),
                            s + " dot4Rows " + i + ", row " + rows[i]);
                }
            }
            t.dot4RowsScalar(rows[0], rows[1], rows[2], rows[3], xs[1], xOffset, fourRows);
            for (int i = 0; i < 4; i++) {
                assertEquals(t.dotScalar(rows[i], xs[1], xOffset), fourRows[i], "scalar dot4Rows " + i);
            }
            float[] four = new float[4];
            for (VectorSpecies<Float> s : WIDTHS) {
                t.dot4Vector(s, row, xs[0], xs[1], xs[2], xs[3], xOffset, four);
                for (int b = 0; b < 4; b++) {
                    assertEquals(t.dotScalar(row, xs[b], xOffset), four[b], tolerance(t, row, xs[b], xOffset),
                            s + " dot4 lane " + b + ", row " + row);
                }
            }
        }
        // Every row range, so that each way of cutting it into four streams (and repeating the last row) is covered;
        // rows outside the range must stay untouched.
        for (int from = 0; from < t.rows(); from++) {
            for (int to = from + 1; to <= t.rows(); to++) {
                float[] part = new float[t.rows()];
                java.util.Arrays.fill(part, Float.NaN);
                t.matVec(xs[2], xOffset, part, 0, from, to);
                for (int row = 0; row < t.rows(); row++) {
                    if (row < from || row >= to) {
                        assertTrue(Float.isNaN(part[row]), "matVec [" + from + ", " + to + ") wrote row " + row);
                    } else {
                        assertEquals(t.dotScalar(row, xs[2], xOffset), part[row], tolerance(t, row, xs[2], xOffset),
                                "matVec [" + from + ", " + to + "), row " + row);
                    }
                }
            }
        }
        float[] out = new float[t.rows() + 2];
        t.matVec(xs[0], xOffset, out, 2, 0, t.rows());
        for (int row = 0; row < t.rows(); row++) {
            assertEquals(t.dotScalar(row, xs[0], xOffset), out[2 + row], tolerance(t, row, xs[0], xOffset), "matVec row " + row);
        }
        float[][] batch = new float[5][];
        float[][] outs = new float[5][t.rows()];
        for (int b = 0; b < 5; b++) {
            batch[b] = java.util.Arrays.copyOfRange(xs[b], xOffset, xOffset + t.cols());
        }
        t.matMul(batch, 5, outs, 0, 0, t.rows());
        for (int b = 0; b < 5; b++) {
            for (int row = 0; row < t.rows(); row++) {
                assertEquals(t.dotScalar(row, batch[b], 0), outs[b][row], tolerance(t, row, batch[b], 0),
                        "matMul activation " + b + " row " + row);
            }
        }
        assertTrue(Float.isFinite(out[2]));
        assertPanelProductAgrees(t, random);
    }

    /**
     * The panel product (prefill-sized batches): its 4 × 4 kernel at every width against the scalar dots, and
     * {@link PanelMatMul#matMul} (host width) for batches that leave 1-3 activation rows over, on row ranges that
     * leave 1-3 weight rows over, and through the tensor's own matMul from MIN_BATCH on.
     */
    static void assertPanelProductAgrees(WeightTensor t, Random random) {
        int cols = t.cols();
        float[][] x4 = new float[4][];
        for (int j = 0; j < 4; j++) {
            x4[j] = gaussian(random, cols, 1.0);
        }
        float[] panel = new float[PanelMatMul.ROWS * cols];
        int rows = Math.min(PanelMatMul.ROWS, t.rows());
        for (int i = 0; i < rows; i++) {
            t.readRow(i, panel, i * cols);
        }
        for (VectorSpecies<Float> s : WIDTHS) {
            float[] dots = new float[16];
            PanelMatMul.panelVector(s, panel, cols, x4[0], x4[1], x4[2], x4[3], dots);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < 4; j++) {
                    assertEquals(t.dotScalar(i, x4[j], 0), dots[i * 4 + j], tolerance(t, i, x4[j], 0),
                            s + " panel kernel row " + i + " activation " + j);
                }
            }
        }
        for (int batch : new int[] {1, 3, 4, 6, PanelMatMul.MIN_BATCH, 11}) {
            float[][] x = new float[batch][];
            for (int b = 0; b < batch; b++) {
                x[b] = gaussian(random, cols, 1.0);
            }
            for (int from = 0; from < Math.min(2, t.rows()); from++) {
                float[][] out = new float[batch][t.rows() + 1];
                PanelMatMul.matMul(t, x, batch, out, 1, from, t.rows());
                float[][] ref = new float[batch][t.rows() + 1];
                PanelMatMul.matMulScalar(t, x, batch, ref, 1, from, t.rows());
                for (int b = 0; b < batch; b++) {
                    assertEquals(0f, out[b][from], "panel product wrote below its row range");
                    for (int row = from; row < t.rows(); row++) {
                        assertEquals(ref[b][1 + row], out[b][1 + row], tolerance(t, row, x[b], 0),
                                "panel product batch " + batch + " activation " + b + " row " + row);
                    }
                }
            }
            if (batch >= PanelMatMul.MIN_BATCH) {
                float[][] out = new float[batch][t.rows()];
                t.matMul(x, batch, out, 0, 0, t.rows());
                for (int b = 0; b < batch; b++) {
                    for (int row = 0; row < t.rows(); row++) {
                        assertEquals(t.dotScalar(row, x[b], 0), out[b][row], tolerance(t, row, x[b], 0),
                                "matMul batch " + batch + " activation " + b + " row " + row);
                    }
                }
            }
        }
    }
}
