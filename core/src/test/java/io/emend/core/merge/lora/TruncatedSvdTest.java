package io.emend.core.merge.lora;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TruncatedSvdTest {

    /** Orthonormal columns (rows×k) by Gram–Schmidt on Gaussian vectors. */
    private static double[] orthonormal(Random r, int rows, int k) {
        double[] q = new double[rows * k];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < rows; i++) {
                q[i * k + j] = r.nextGaussian();
            }
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int i = 0; i < rows; i++) {
                    dot += q[i * k + p] * q[i * k + j];
                }
                for (int i = 0; i < rows; i++) {
                    q[i * k + j] -= dot * q[i * k + p];
                }
            }
            double n = 0;
            for (int i = 0; i < rows; i++) {
                n += q[i * k + j] * q[i * k + j];
            }
            for (int i = 0; i < rows; i++) {
                q[i * k + j] /= Math.sqrt(n);
            }
        }
        return q;
    }

    /** U·diag(s)·Vᵀ with known singular values. */
    private static double[] withSpectrum(Random r, int rows, int cols, double[] s) {
        int k = s.length;
        double[] u = orthonormal(r, rows, k);
        double[] v = orthonormal(r, cols, k);
        double[] m = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                for (int p = 0; p < k; p++) {
                    m[i * cols + j] += u[i * k + p] * s[p] * v[j * k + p];
                }
            }
        }
        return m;
    }

    @Test
    void recoversTheSingularValuesAndReconstructsExactlyAtFullRank() {
        double[] s = {9, 4, 1.5, 0.25};
        double[] m = withSpectrum(new Random(1), 60, 40, s);
        TruncatedSvd.Factors f = TruncatedSvd.of(m, 60, 40, 4, 7);
        // double rounding over ~60-term sums of O(1) values: 1e-10 leaves ample room above 1e-14 rounding
        assertArrayEquals(s, f.sigma(), 1e-10);
        assertTrue(TruncatedSvd.relativeError(m, f) < 1e-12, "error " + TruncatedSvd.relativeError(m, f));
        TruncatedSvd.Factors more = TruncatedSvd.of(m, 60, 40, 6, 7);
        assertTrue(TruncatedSvd.relativeError(m, more) < 1e-12);
    }

    @Test
    void truncationErrorIsTheEckartYoungOptimum() {
        double[] s = {5, 3, 2, 1};
        double[] m = withSpectrum(new Random(2), 30, 50, s);
        TruncatedSvd.Factors f = TruncatedSvd.of(m, 30, 50, 2, 3);
        // the best rank-2 error is sqrt(2² + 1²) / sqrt(5² + 3² + 2² + 1²)
        assertEquals(Math.sqrt(5.0 / 39.0), TruncatedSvd.relativeError(m, f), 1e-9);
        assertArrayEquals(new double[] {5, 3}, f.sigma(), 1e-9);
    }

    @Test
    void factorsHaveOrthonormalVectors() {
        double[] m = withSpectrum(new Random(3), 20, 25, new double[] {3, 2, 1});
        TruncatedSvd.Factors f = TruncatedSvd.of(m, 20, 25, 3, 1);
        for (int p = 0; p < 3; p++) {
            for (int q = 0; q < 3; q++) {
                double uu = 0;
                double vv = 0;
                for (int i = 0; i < 20; i++) {
                    uu += f.u()[i * 3 + p] * f.u()[i * 3 + q];
                }
                for (int j = 0; j < 25; j++) {
                    vv += f.vt()[p * 25 + j] * f.vt()[q * 25 + j];
                }
                assertEquals(p == q ? 1 : 0, uu, 1e-10);
                assertEquals(p == q ? 1 : 0, vv, 1e-10);
            }
        }
    }
}
