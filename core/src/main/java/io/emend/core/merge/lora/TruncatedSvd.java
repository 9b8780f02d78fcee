package io.emend.core.merge.lora;

import java.util.SplittableRandom;

/**
 * The best rank-k approximation of a dense matrix (Eckart–Young), in plain Java doubles, for re-factorizing merged
 * LoRA products {@code ΔW ≈ U·diag(σ)·Vᵀ}.
 *
 * <p>Method (Halko, Martinsson and Tropp 2011, "randomized range finder"):
 * <ol>
 *   <li>sample the range of M (m×n) with ℓ = min(k + {@value #OVERSAMPLE}, m, n) random Gaussian directions,
 *       Y = M·Ω, and sharpen it with {@value #POWER_ITERATIONS} power iterations Y = M·(Mᵀ·Y), re-orthonormalizing
 *       (modified Gram–Schmidt) between products so small singular directions are not lost to rounding;</li>
 *   <li>project: C = Qᵀ·M (ℓ×n), small enough to decompose exactly;</li>
 *   <li>decompose Cᵀ (n×ℓ) with one-sided Jacobi (Hestenes) rotations until every pair of columns is orthogonal to
 *       within {@value #JACOBI_TOLERANCE}; column norms are the singular values. One-sided Jacobi works on C itself,
 *       not on C·Cᵀ, so it does not square the condition number;</li>
 *   <li>U = Q·(left vectors of C), keep the k largest.</li>
 * </ol>
 * When M's rank is at most ℓ (merged adapters: rank ≤ the sum of the input ranks) the range is captured exactly and
 * the result is exact up to rounding; otherwise the power iterations make it near-optimal.
 */
public final class TruncatedSvd {

    /** Extra random directions beyond k. */
    static final int OVERSAMPLE = 8;
    /** Power iterations; two are enough for the slowly decaying spectra of weight deltas (Halko et al., §4.5). */
    static final int POWER_ITERATIONS = 2;
    /** Jacobi stops when |cᵢ·cⱼ| ≤ tolerance·‖cᵢ‖‖cⱼ‖ for every pair. */
    static final double JACOBI_TOLERANCE = 1e-15;
    private static final int MAX_SWEEPS = 60;
    /** Relative norm below which a sampled direction is taken as dependent on the earlier ones. */
    static final double RANK_TOLERANCE = 1e-10;

    /**
     * A rank-k factorization.
     *
     * @param u     // [rows, k] row-major, orthonormal columns
     * @param sigma // [k] descending
     * @param vt    // [k, cols] row-major, orthonormal rows
     */
    public record Factors(int rows, int cols, int k, double[] u, double[] sigma, double[] vt) {
    }

    private TruncatedSvd() {
    }

    /** The rank-{@code k} truncated SVD of row-major {@code m} (rows×cols), seeded for reproducibility. */
    public static Factors of(double[] m, int rows, int cols, int k, long seed) {
        if (k <= 0) {
            throw new IllegalArgumentException("target rank must be positive, got " + k);
        }
        int l = Math.min(Math.min(k + OVERSAMPLE, rows), cols);
        k = Math.min(k, l);
        SplittableRandom random = new SplittableRandom(seed);
        double[] omega = new double[cols * l];
        for (int i = 0; i < omega.length; i++) {
            omega[i] = gaussian(random);
        }
        double[] y = multiply(m, rows, cols, omega, l);          // rows×l
        orthonormalize(y, rows, l);
        for (int it = 0; it < POWER_ITERATIONS; it++) {
            double[] z = multiplyTransposed(m, rows, cols, y, l); // cols×l = Mᵀ·Y
            orthonormalize(z, cols, l);
            y = multiply(m, rows, cols, z, l);
            orthonormalize(y, rows, l);
        }
        // Cᵀ = Mᵀ·Q  (cols×l); Jacobi orthogonalizes its columns: Cᵀ·V = W·Σ, so C = V·Σ·Wᵀ.
        double[] ct = multiplyTransposed(m, rows, cols, y, l);
        double[] v = identity(l);
        jacobi(ct, cols, l, v);
        Integer[] order = new Integer[l];
        double[] norms = new double[l];
        for (int j = 0; j < l; j++) {
            order[j] = j;
            double s = 0;
            for (int i = 0; i < cols; i++) {
                s += ct[i * l + j] * ct[i * l + j];
            }
            norms[j] = Math.sqrt(s);
        }
        java.util.Arrays.sort(order, (p, q) -> Double.compare(norms[q], norms[p]));
        double[] u = new double[rows * k];
        double[] sigma = new double[k];
        double[] vt = new double[k * cols];
        for (int c = 0; c < k; c++) {
            int j = order[c];
            sigma[c] = norms[j];
            // right singular vector of M: column j of Cᵀ normalized
            if (norms[j] > 0) {
                for (int i = 0; i < cols; i++) {
                    vt[c * cols + i] = ct[i * l + j] / norms[j];
                }
            }
            // left singular vector of M: Q · (column j of V)
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int p = 0; p < l; p++) {
                    s += y[r * l + p] * v[p * l + j];
                }
                u[r * k + c] = s;
            }
        }
        return new Factors(rows, cols, k, u, sigma, vt);
    }

    /** ‖M − U·Σ·Vᵀ‖_F / ‖M‖_F (0 for a zero matrix reproduced exactly). */
    public static double relativeError(double[] m, Factors f) {
        double num = 0;
        double den = 0;
        for (int r = 0; r < f.rows(); r++) {
            for (int c = 0; c < f.cols(); c++) {
                double approx = 0;
                for (int p = 0; p < f.k(); p++) {
                    approx += f.u()[r * f.k() + p] * f.sigma()[p] * f.vt()[p * f.cols() + c];
                }
                double x = m[r * f.cols() + c];
                num += (x - approx) * (x - approx);
                den += x * x;
            }
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static void jacobi(double[] a, int n, int l, double[] v) {
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < l - 1; p++) {
                for (int q = p + 1; q < l; q++) {
                    double alpha = 0;
                    double beta = 0;
                    double gamma = 0;
                    for (int i = 0; i < n; i++) {
                        double x = a[i * l + p];
                        double y = a[i * l + q];
                        alpha += x * x;
                        beta += y * y;
                        gamma += x * y;
                    }
                    if (Math.abs(gamma) <= JACOBI_TOLERANCE * Math.sqrt(alpha * beta) || gamma == 0) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    rotate(a, n, l, p, q, c, s);
                    rotate(v, l, l, p, q, c, s);
                }
            }
            if (!rotated) {
                return;
            }
        }
    }

    private static void rotate(double[] a, int n, int l, int p, int q, double c, double s) {
        for (int i = 0; i < n; i++) {
            double x = a[i * l + p];
            double y = a[i * l + q];
            a[i * l + p] = c * x - s * y;
            a[i * l + q] = s * x + c * y;
        }
    }

    /**
     * Modified Gram–Schmidt on the l columns of row-major a (n×l), run twice per column ("twice is enough",
     * Giraud et al. 2005) so the columns stay orthogonal to working precision. A column that loses all but
     * {@value #RANK_TOLERANCE} of its norm to the projections lies in the span of the earlier ones (M has lower
     * rank than ℓ) and is set to zero rather than normalized noise.
     */
    private static void orthonormalize(double[] a, int n, int l) {
        for (int j = 0; j < l; j++) {
            double before = columnNorm(a, n, l, j);
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < n; i++) {
                        dot += a[i * l + p] * a[i * l + j];
                    }
                    for (int i = 0; i < n; i++) {
                        a[i * l + j] -= dot * a[i * l + p];
                    }
                }
            }
            double norm = columnNorm(a, n, l, j);
            boolean independent = norm > RANK_TOLERANCE * before;
            for (int i = 0; i < n; i++) {
                a[i * l + j] = independent ? a[i * l + j] / norm : 0;
            }
        }
    }

    private static double columnNorm(double[] a, int n, int l, int j) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[i * l + j] * a[i * l + j];
        }
        return Math.sqrt(s);
    }

    /** M (rows×cols) · X (cols×l). */
    private static double[] multiply(double[] m, int rows, int cols, double[] x, int l) {
        double[] out = new double[rows * l];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double v = m[r * cols + c];
                if (v == 0) {
                    continue;
                }
                for (int j = 0; j < l; j++) {
                    out[r * l + j] += v * x[c * l + j];
                }
            }
        }
        return out;
    }

    /** Mᵀ (cols×rows) · X (rows×l). */
    private static double[] multiplyTransposed(double[] m, int rows, int cols, double[] x, int l) {
        double[] out = new double[cols * l];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double v = m[r * cols + c];
                if (v == 0) {
                    continue;
                }
                for (int j = 0; j < l; j++) {
                    out[c * l + j] += v * x[r * l + j];
                }
            }
        }
        return out;
    }

    private static double[] identity(int l) {
        double[] v = new double[l * l];
        for (int i = 0; i < l; i++) {
            v[i * l + i] = 1;
        }
        return v;
    }

    private static double gaussian(SplittableRandom r) {
        // Box–Muller; u1 in (0, 1] so the log is finite
        double u1 = 1 - r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
