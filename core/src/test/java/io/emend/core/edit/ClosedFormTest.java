package io.emend.core.edit;

import io.emend.core.edit.alphaedit.NullSpaceProjection;
import io.emend.core.edit.memit.LeastSquares;
import io.emend.core.edit.rome.RomeEditor;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The closed forms of ROME, MEMIT and AlphaEdit against direct solutions of the problems they claim to solve, on a
 * small random layer (keys of width 10, output width 6). All in double precision on well-conditioned systems, so the
 * agreement is ~1e-12; the tolerances (1e-8 relative) fail for any wrong term, which errs by O(1).
 */
class ClosedFormTest {

    private static final int IN = 10;
    private static final int OUT = 6;
    @Test
    void romeEqualsTheDirectConstrainedLeastSquaresSolve() {
        SplittableRandom rng = new SplittableRandom(3);
        Matrix k0 = MatrixTest.random(rng, IN, 200);
        Matrix c = k0.timesOwnTranspose().scale(1.0 / 200);
        double[] k = MatrixTest.random(rng, IN, 1).values();
        double[] r = MatrixTest.random(rng, OUT, 1).values();

        double[] rome = RomeEditor.rankOne(c, k, r).delta().values();

        // Direct: each output row δ minimises δ C δᵀ subject to δ·k = r_o. Its KKT system
        // [2C k; kᵀ 0] [δᵀ; μ] = [0; r_o] is solved by Gaussian elimination with partial pivoting, independent of the
        // Cholesky path the editor uses.
        for (int o = 0; o < OUT; o++) {
            double[][] a = new double[IN + 1][IN + 2];
            for (int i = 0; i < IN; i++) {
                for (int j = 0; j < IN; j++) {
                    a[i][j] = 2 * c.get(i, j);
                }
                a[i][IN] = k[i];
                a[IN][i] = k[i];
            }
            a[IN][IN + 1] = r[o];
            double[] x = gauss(a);
            for (int i = 0; i < IN; i++) {
                assertEquals(x[i], rome[o * IN + i], 1e-8 * (1 + Math.abs(x[i])), "row " + o + " col " + i);
            }
        }
        double[] written = new Matrix(OUT, IN, rome).times(Matrix.column(k)).values();
        for (int o = 0; o < OUT; o++) {
            assertEquals(r[o], written[o], 1e-9, "ΔW k* = r");
        }
    }

    @Test
    void memitWithOneEditPointsAlongRomesUpdate() {
        SplittableRandom rng = new SplittableRandom(4);
        Matrix k0 = MatrixTest.random(rng, IN, 200);
        Matrix c = k0.timesOwnTranspose().scale(1.0 / 200);
        double[] k = MatrixTest.random(rng, IN, 1).values();
        double[] r = MatrixTest.random(rng, OUT, 1).values();
        double[] rome = RomeEditor.rankOne(c, k, r).delta().values();
        Matrix v = new LeastSquares(l -> c, 50).rightFactor(0, Matrix.column(k));
        double[] memit = Matrix.column(r).times(v.transpose()).values();
        assertEquals(1.0, cosine(rome, memit), 1e-10, "MEMIT's single-edit update is ROME's, scaled");
        // Sherman–Morrison: MEMIT writes kᵀC⁻¹k / (λ + kᵀC⁻¹k) of the residual, ROME all of it.
        double kck = dot(k, c.solveSpd(Matrix.column(k)).values());
        assertEquals(kck / (50 + kck), norm(memit) / norm(rome), 1e-9);
    }

    @Test
    void memitMinimisesItsRidgeObjective() {
        SplittableRandom rng = new SplittableRandom(5);
        Matrix k0 = MatrixTest.random(rng, IN, 100);
        Matrix c = k0.timesOwnTranspose().scale(1.0 / 100);
        Matrix keys = MatrixTest.random(rng, IN, 3);
        Matrix r = MatrixTest.random(rng, OUT, 3);
        double lambda = 7;
        Matrix delta = r.times(new LeastSquares(l -> c, lambda).rightFactor(0, keys).transpose());
        // The gradient of λ tr(Δ C Δᵀ) + ‖Δ K − R‖² vanishes at the minimiser: λ Δ C + (Δ K − R) Kᵀ = 0.
        Matrix gradient = delta.times(c).scale(lambda).plus(delta.times(keys).minus(r).times(keys.transpose()));
        assertEquals(0, gradient.frobeniusNorm(), 1e-9 * r.frobeniusNorm());
    }

    @Test
    void alphaEditLeavesKeysInThePreservedSubspaceExactlyUnchanged() {
        // Preserved keys span only 6 of 10 dimensions, so C has an exact 4-dimensional null space.
        SplittableRandom rng = new SplittableRandom(6);
        Matrix basis = MatrixTest.random(rng, IN, 6);
        Matrix k0 = basis.times(MatrixTest.random(rng, 6, 300));
        Matrix c = k0.timesOwnTranspose().scale(1.0 / 300);
        KeyStatistics stats = new KeyStatistics(IN, 300, "", java.util.Map.of(0, c));
        NullSpaceProjection rule = new NullSpaceProjection(stats, 1e-6, 1e-3, new HashMap<>());
        assertEquals(4, rule.nullity(0));
        Matrix keys = MatrixTest.random(rng, IN, 2);
        Matrix r = MatrixTest.random(rng, OUT, 2);
        Matrix delta = r.times(rule.rightFactor(0, keys).transpose());
        Matrix preservedOutputs = delta.times(k0);
        assertEquals(0, preservedOutputs.frobeniusNorm() / k0.frobeniusNorm(), 1e-9,
                "ΔW K₀ = 0 for keys the statistics saw");
        // The edit keys themselves are written (up to the ridge α = 1e-3 of the mean eigenvalue).
        Matrix written = delta.times(keys);
        double relative = written.minus(r).frobeniusNorm() / r.frobeniusNorm();
        assertTrue(relative < 0.05, "edit residual written up to the ridge, relative error " + relative);
    }

    @Test
    void alphaEditKeepsEarlierBatchesWritten() {
        SplittableRandom rng = new SplittableRandom(7);
        Matrix basis = MatrixTest.random(rng, IN, 4);
        Matrix k0 = basis.times(MatrixTest.random(rng, 4, 300));
        Matrix c = k0.timesOwnTranspose().scale(1.0 / 300);
        KeyStatistics stats = new KeyStatistics(IN, 300, "", java.util.Map.of(0, c));
        NullSpaceProjection rule = new NullSpaceProjection(stats, 1e-6, 1e-6, new HashMap<>());
        Matrix first = MatrixTest.random(rng, IN, 2);
        rule.rightFactor(0, first);
        rule.written(0, first);
        Matrix second = MatrixTest.random(rng, IN, 2);
        Matrix delta = MatrixTest.random(rng, OUT, 2).times(rule.rightFactor(0, second).transpose());
        // The second batch's update barely moves the first batch's keys: they are in K_p, which the solve preserves.
        double moved = delta.times(first).frobeniusNorm() / delta.times(second).frobeniusNorm();
        assertTrue(moved < 1e-3, "earlier edits moved by " + moved + " of the new edits' change");
    }

    /**
     * The rule accumulates {@code P K_p K_pᵀ P} batch by batch instead of forming P G P; after two batches, and for a
     * rule handed the same written keys by an earlier job, V must equal the paper's closed form
     * {@code (P (K Kᵀ + K_p K_pᵀ) P + αI)⁻¹ P K} formed directly. Double precision on well-conditioned 10 × 10
     * systems (α = 1e-2 of the mean eigenvalue): agreement to 1e-9 relative; a dropped or doubled term errs by O(1).
     */
    @Test
    void alphaEditAccumulatedSystemEqualsTheClosedForm() {
        SplittableRandom rng = new SplittableRandom(8);
        Matrix basis = MatrixTest.random(rng, IN, 5);
        Matrix k0 = basis.times(MatrixTest.random(rng, 5, 300)).plus(MatrixTest.random(rng, IN, 300).scale(0.01));
        Matrix c = k0.timesOwnTranspose().scale(1.0 / 300);
        KeyStatistics stats = new KeyStatistics(IN, 300, "", java.util.Map.of(0, c));
        double energy = 0.05;
        double ridge = 1e-2;
        NullSpaceProjection rule = new NullSpaceProjection(stats, energy, ridge, new HashMap<>());
        Matrix first = MatrixTest.random(rng, IN, 3);
        rule.rightFactor(0, first);
        rule.written(0, first);
        Matrix second = MatrixTest.random(rng, IN, 2);
        rule.rightFactor(0, second);
        rule.written(0, second);
        Matrix third = MatrixTest.random(rng, IN, 2);
        Matrix p = rule.projector(0);
        Matrix gram = third.timesOwnTranspose().plus(first.timesOwnTranspose()).plus(second.timesOwnTranspose());
        Matrix expected = p.times(gram).times(p).plusDiagonal(ridge * c.meanDiagonal()).solveSpd(p.times(third));
        Matrix incremental = rule.rightFactor(0, third);
        assertEquals(0, incremental.minus(expected).frobeniusNorm(), 1e-9 * expected.frobeniusNorm());
        java.util.Map<Integer, Matrix> earlier = new HashMap<>(rule.writtenKeys());
        Matrix handed = new NullSpaceProjection(stats, energy, ridge, earlier).rightFactor(0, third);
        assertEquals(0, handed.minus(expected).frobeniusNorm(), 1e-9 * expected.frobeniusNorm());
    }

    private static double[] gauss(double[][] a) {
        int n = a.length;
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int row = col + 1; row < n; row++) {
                if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) {
                    pivot = row;
                }
            }
            double[] t = a[col];
            a[col] = a[pivot];
            a[pivot] = t;
            for (int row = 0; row < n; row++) {
                if (row != col) {
                    double f = a[row][col] / a[col][col];
                    for (int j = col; j <= n; j++) {
                        a[row][j] -= f * a[col][j];
                    }
                }
            }
        }
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = a[i][n] / a[i][i];
        }
        return x;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    static double cosine(double[] a, double[] b) {
        return dot(a, b) / (norm(a) * norm(b));
    }
}
