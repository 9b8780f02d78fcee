package io.emend.core.edit;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Householder + QR eigensolver against matrices whose spectrum is known by construction ({@code Q Λ Qᵀ} with a
 * random orthogonal Q) and against the Jacobi reference. Tolerances: a backward-stable solver's eigenvalues are within
 * ~n·ε·‖A‖₂ of the true ones (Weyl), ≈ 1e-13·‖A‖ at n ≤ 200; 1e-10·‖A‖ leaves three orders of room and still fails a
 * wrong rotation or a skipped reflector, which err by O(‖A‖). Eigenvectors are compared through the projectors onto
 * eigenspaces, which are unique even where eigenvalues repeat.
 */
class SymmetricEigensolverTest {

    /** A random orthogonal matrix: Gram–Schmidt on Gaussian columns (twice, for orthogonality to ε). */
    static Matrix orthogonal(SplittableRandom rng, int n) {
        double[] q = MatrixTest.random(rng, n, n).values();
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < j; i++) {
                    double dot = 0;
                    for (int k = 0; k < n; k++) {
                        dot += q[k * n + i] * q[k * n + j];
                    }
                    for (int k = 0; k < n; k++) {
                        q[k * n + j] -= dot * q[k * n + i];
                    }
                }
                double norm = 0;
                for (int k = 0; k < n; k++) {
                    norm += q[k * n + j] * q[k * n + j];
                }
                norm = Math.sqrt(norm);
                for (int k = 0; k < n; k++) {
                    q[k * n + j] /= norm;
                }
            }
        }
        return new Matrix(n, n, q);
    }

    static Matrix withSpectrum(Matrix q, double[] lambda) {
        int n = lambda.length;
        Matrix l = Matrix.zeros(n, n);
        for (int i = 0; i < n; i++) {
            l.values()[i * n + i] = lambda[i];
        }
        Matrix a = q.times(l).times(q.transpose());
        // exact symmetry, as a second moment is stored
        return a.plus(a.transpose()).scale(0.5);
    }

    private static void assertDecomposes(Matrix a, Matrix.Eigen e, double tolerance) {
        int n = a.rows();
        Matrix v = e.vectors();
        Matrix lambda = Matrix.zeros(n, n);
        for (int i = 0; i < n; i++) {
            lambda.values()[i * n + i] = e.eigenvalues()[i];
            if (i > 0) {
                assertTrue(e.eigenvalues()[i] >= e.eigenvalues()[i - 1], "eigenvalues ascend");
            }
        }
        assertEquals(0, v.times(lambda).times(v.transpose()).minus(a).frobeniusNorm(), tolerance);
        assertEquals(0, v.transpose().times(v).minus(Matrix.identity(n)).frobeniusNorm(), 1e-10);
    }

    /** The projector onto the span of eigenvectors {@code from} … {@code to − 1}. */
    private static Matrix projector(Matrix.Eigen e, int from, int to) {
        int n = e.vectors().rows();
        Matrix p = Matrix.zeros(n, n);
        for (int j = from; j < to; j++) {
            Matrix u = Matrix.column(e.vectors().column(j));
            p = p.plus(u.timesOwnTranspose());
        }
        return p;
    }

    @Test
    void findsAKnownSpectrumWithRepeatedZeroAndTinyEigenvalues() {
        SplittableRandom rng = new SplittableRandom(7);
        int n = 60;
        double[] lambda = new double[n];
        for (int i = 0; i < n; i++) {
            // a rank-deficient second moment: ten exact zeros, a cluster of tiny values, repeated ones, a wide range
            lambda[i] = i < 10 ? 0 : i < 15 ? 1e-9 * i : i < 30 ? 1.0 : Math.pow(10, (i - 29) / 10.0);
        }
        Matrix q = orthogonal(rng, n);
        Matrix a = withSpectrum(q, lambda);
        double norm = a.frobeniusNorm();
        Matrix.Eigen e = SymmetricEigensolver.decompose(a);
        double[] sorted = lambda.clone();
        java.util.Arrays.sort(sorted);
        for (int i = 0; i < n; i++) {
            assertEquals(sorted[i], e.eigenvalues()[i], 1e-10 * norm, "eigenvalue " + i);
        }
        assertDecomposes(a, e, 1e-10 * norm);
        // The near-null space (ten zeros and five tiny values) and the repeated eigenvalue 1's eigenspace come out
        // exactly: a subspace moves by about error / gap (Davis–Kahan), here 1e-11 / 1, so 1e-8 is generous. (Inside
        // the near-null space, zeros and 1e-9 are not separable at this error; a null space chosen by energy share
        // never splits them.)
        Matrix nullQ = Matrix.zeros(n, n);
        Matrix oneQ = Matrix.zeros(n, n);
        for (int j = 0; j < n; j++) {
            Matrix u = Matrix.column(q.column(j));
            if (j < 15) {
                nullQ = nullQ.plus(u.timesOwnTranspose());
            } else if (j >= 15 && j < 30) {
                oneQ = oneQ.plus(u.timesOwnTranspose());
            }
        }
        assertEquals(0, projector(e, 0, 15).minus(nullQ).frobeniusNorm(), 1e-8);
        assertEquals(0, projector(e, 15, 30).minus(oneQ).frobeniusNorm(), 1e-8);
    }

    @Test
    void agreesWithJacobiOnKeyMomentLikeMatrices() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int n : new int[] {1, 2, 3, 17, 96}) {
            // a second moment of correlated keys: K Kᵀ / tokens over fewer tokens than dimensions (rank-deficient)
            Matrix mix = MatrixTest.random(rng, n, n);
            Matrix k = mix.times(MatrixTest.random(rng, n, Math.max(1, n / 2)));
            Matrix a = k.timesOwnTranspose().scale(1.0 / Math.max(1, n / 2));
            Matrix.Eigen fast = SymmetricEigensolver.decompose(a);
            Matrix.Eigen reference = a.jacobiEigen();
            double norm = Math.max(a.frobeniusNorm(), 1e-300);
            for (int i = 0; i < n; i++) {
                assertEquals(reference.eigenvalues()[i], fast.eigenvalues()[i], 1e-10 * norm, n + ": eigenvalue " + i);
            }
            assertDecomposes(a, fast, 1e-10 * norm);
            // the top half's eigenspace (well separated from the zeros below it) is the same subspace
            int half = n - Math.max(1, n / 2);
            if (n > 2) {
                assertEquals(0, projector(fast, half, n).minus(projector(reference, half, n)).frobeniusNorm(), 1e-7,
                        "n = " + n);
            }
        }
    }

    @Test
    void handlesDiagonalAndAlreadyTridiagonalInput() {
        Matrix diagonal = new Matrix(3, 3, new double[] {3, 0, 0, 0, -1, 0, 0, 0, 2});
        Matrix.Eigen e = SymmetricEigensolver.decompose(diagonal);
        assertEquals(-1, e.eigenvalues()[0], 0);
        assertEquals(2, e.eigenvalues()[1], 0);
        assertEquals(3, e.eigenvalues()[2], 0);
        // the path graph's Laplacian-like tridiagonal 2, -1: eigenvalues 2 − 2cos(kπ/(n+1))
        int n = 8;
        Matrix t = Matrix.zeros(n, n);
        for (int i = 0; i < n; i++) {
            t.values()[i * n + i] = 2;
            if (i + 1 < n) {
                t.values()[i * n + i + 1] = -1;
                t.values()[(i + 1) * n + i] = -1;
            }
        }
        Matrix.Eigen te = SymmetricEigensolver.decompose(t);
        for (int k = 1; k <= n; k++) {
            assertEquals(2 - 2 * Math.cos(k * Math.PI / (n + 1)), te.eigenvalues()[k - 1], 1e-13);
        }
        assertDecomposes(t, te, 1e-12);
    }

    @Test
    void rejectsNonSquareAndNonFiniteInput() {
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigensolver.decompose(Matrix.zeros(2, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> SymmetricEigensolver.decompose(new Matrix(1, 1, new double[] {Double.NaN})));
    }
}
