package io.emend.core.edit;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dense linear algebra behind the closed forms. Tolerances: the test matrices are well conditioned (a Gram
 * matrix of random keys plus the identity, condition number below ~100), so double-precision Cholesky and Jacobi are
 * accurate to ~1e-13 relative; 1e-9 leaves room without hiding a wrong formula (which errs by O(1)).
 */
class MatrixTest {

    static Matrix random(SplittableRandom rng, int rows, int cols) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return new Matrix(rows, cols, v);
    }

    static Matrix spd(SplittableRandom rng, int n) {
        Matrix k = random(rng, n, 3 * n);
        return k.timesOwnTranspose().scale(1.0 / (3 * n)).plusDiagonal(1);
    }

    @Test
    void choleskySolveSatisfiesTheSystem() {
        SplittableRandom rng = new SplittableRandom(1);
        // One right-hand side, a few, and more than the system has rows (MEMIT's N edits against a key width d).
        for (int[] shape : new int[][] {{9, 1}, {9, 4}, {40, 65}}) {
            Matrix a = spd(rng, shape[0]);
            Matrix b = random(rng, shape[0], shape[1]);
            Matrix x = a.solveSpd(b);
            assertEquals(0, a.times(x).minus(b).frobeniusNorm(), 1e-9 * b.frobeniusNorm(),
                    shape[0] + "x" + shape[1]);
        }
    }

    @Test
    void choleskyRejectsAMatrixThatIsNotPositiveDefinite() {
        Matrix a = new Matrix(2, 2, new double[] {1, 2, 2, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.solveSpd(Matrix.column(new double[] {1, 1})));
        assertTrue(e.getMessage().contains("not positive definite"), e.getMessage());
    }

    @Test
    void jacobiEigenDecompositionReconstructsTheMatrixWithOrthonormalVectors() {
        SplittableRandom rng = new SplittableRandom(2);
        Matrix a = spd(rng, 12);
        Matrix.Eigen e = a.jacobiEigen();
        Matrix v = e.vectors();
        Matrix lambda = Matrix.zeros(12, 12);
        for (int i = 0; i < 12; i++) {
            lambda.values()[i * 12 + i] = e.eigenvalues()[i];
            if (i > 0) {
                assertTrue(e.eigenvalues()[i] >= e.eigenvalues()[i - 1], "eigenvalues ascend");
            }
        }
        assertEquals(0, v.times(lambda).times(v.transpose()).minus(a).frobeniusNorm(), 1e-9 * a.frobeniusNorm());
        assertEquals(0, v.transpose().times(v).minus(Matrix.identity(12)).frobeniusNorm(), 1e-9);
    }

    @Test
    void shapesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Matrix(2, 3, new double[5]));
        assertThrows(IllegalArgumentException.class, () -> Matrix.zeros(2, 3).times(Matrix.zeros(2, 3)));
    }
}
