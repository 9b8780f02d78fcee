package io.emend.core.edit;

import java.util.Arrays;

/**
 * A small dense matrix in double precision, row-major, for the closed-form parts of editing: key covariances
 * ({@code [keyDim, keyDim]}), key and residual matrices ({@code [dim, edits]}). The systems are solved here in plain
 * Java rather than with DJL because DJL 0.35.1 exposes only {@code inverse()} (no solve, Cholesky or eigensolver) and
 * the systems are symmetric positive definite, where Cholesky in double precision is both cheaper and more accurate
 * than an F32 inverse; eigen-decompositions go through {@link SymmetricEigensolver}. Cost is O(n³) in the key dimension: milliseconds for the fixtures, about a second at n = 2048.
 *
 * @param rows   row count
 * @param cols   column count
 * @param values [rows * cols], row-major
 */
public record Matrix(int rows, int cols, double[] values) {

    public Matrix {
        if (rows < 0 || cols < 0 || values.length != (long) rows * cols) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix needs " + ((long) rows * cols)
                    + " values, got " + values.length);
        }
    }

    public static Matrix zeros(int rows, int cols) {
        return new Matrix(rows, cols, new double[rows * cols]);
    }

    public static Matrix identity(int n) {
        Matrix m = zeros(n, n);
        for (int i = 0; i < n; i++) {
            m.values[i * n + i] = 1;
        }
        return m;
    }

    /** A column vector. */
    public static Matrix column(double[] v) {
        return new Matrix(v.length, 1, v.clone());
    }

    /** The matrix whose columns are the given vectors (all of one length). */
    public static Matrix ofColumns(java.util.List<double[]> columns) {
        int rows = columns.isEmpty() ? 0 : columns.getFirst().length;
        Matrix m = zeros(rows, columns.size());
        for (int j = 0; j < columns.size(); j++) {
            double[] c = columns.get(j);
            if (c.length != rows) {
                throw new IllegalArgumentException("column " + j + " has " + c.length + " entries, expected " + rows);
            }
            for (int i = 0; i < rows; i++) {
                m.values[i * m.cols + j] = c[i];
            }
        }
        return m;
    }

    /** From F32 values, row-major. */
    public static Matrix ofFloats(int rows, int cols, float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
        }
        return new Matrix(rows, cols, d);
    }

    public double get(int r, int c) {
        return values[r * cols + c];
    }

    public double[] column(int c) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = values[r * cols + c];
        }
        return out;
    }

    public float[] toFloats() {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    public Matrix transpose() {
        Matrix t = zeros(cols, rows);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t.values[c * rows + r] = values[r * cols + c];
            }
        }
        return t;
    }

    /** {@code this · other}. */
    public Matrix times(Matrix other) {
        if (cols != other.rows) {
            throw new IllegalArgumentException("cannot multiply " + rows + "x" + cols + " by " + other.rows + "x"
                    + other.cols);
        }
        Matrix out = zeros(rows, other.cols);
        for (int r = 0; r < rows; r++) {
            int outRow = r * other.cols;
            for (int k = 0; k < cols; k++) {
                double a = values[r * cols + k];
                if (a == 0) {
                    continue;
                }
                int otherRow = k * other.cols;
                for (int c = 0; c < other.cols; c++) {
                    out.values[outRow + c] += a * other.values[otherRow + c];
                }
            }
        }
        return out;
    }

    /** {@code this · thisᵀ}, the Gram matrix of the columns' outer products (e.g. {@code K Kᵀ}). */
    public Matrix timesOwnTranspose() {
        return times(transpose());
    }

    public Matrix plus(Matrix other) {
        requireSameShape(other);
        double[] v = values.clone();
        for (int i = 0; i < v.length; i++) {
            v[i] += other.values[i];
        }
        return new Matrix(rows, cols, v);
    }

    public Matrix minus(Matrix other) {
        return plus(other.scale(-1));
    }

    public Matrix scale(double s) {
        double[] v = values.clone();
        for (int i = 0; i < v.length; i++) {
            v[i] *= s;
        }
        return new Matrix(rows, cols, v);
    }

    /** {@code this + s·I} for a square matrix. */
    public Matrix plusDiagonal(double s) {
        requireSquare();
        double[] v = values.clone();
        for (int i = 0; i < rows; i++) {
            v[i * cols + i] += s;
        }
        return new Matrix(rows, cols, v);
    }

    /** Mean of the diagonal: for a second-moment matrix, the mean eigenvalue (energy per direction). */
    public double meanDiagonal() {
        requireSquare();
        double s = 0;
        for (int i = 0; i < rows; i++) {
            s += values[i * cols + i];
        }
        return rows == 0 ? 0 : s / rows;
    }

    public double frobeniusNorm() {
        double s = 0;
        for (double v : values) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    /**
     * Solves {@code this · X = b} for a symmetric positive definite matrix by Cholesky factorisation
     * ({@code this = L Lᵀ}, then two triangular solves per column of b).
     *
     * @throws IllegalArgumentException when the matrix is not square, b has the wrong row count, or the matrix is not
     *                                  positive definite (a non-positive pivot; the message names its index)
     */
    public Matrix solveSpd(Matrix b) {
        requireSquare();
        if (b.rows != rows) {
            throw new IllegalArgumentException("right-hand side has " + b.rows + " rows, the system " + rows);
        }
        int n = rows;
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            double d = values[j * n + j];
            for (int k = 0; k < j; k++) {
                d -= l[j * n + k] * l[j * n + k];
            }
            if (!(d > 0)) {
                throw new IllegalArgumentException("matrix is not positive definite (pivot " + j + " is " + d
                        + "); regularise it or use more key-statistics tokens");
            }
            double ljj = Math.sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double s = values[i * n + j];
                for (int k = 0; k < j; k++) {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / ljj;
            }
        }
        // Both substitutions run a row of every right-hand side at once: each row of the result is a combination of
        // earlier (later) rows, read and written contiguously. A column at a time walks L and X with a stride of a
        // row, which for MEMIT's 1,000 edits over a 2,048-wide key made the substitution slower than the factorisation.
        int m = b.cols;
        double[] y = b.values.clone();
        for (int i = 0; i < n; i++) {
            int row = i * m;
            for (int k = 0; k < i; k++) {
                double lik = l[i * n + k];
                if (lik == 0) {
                    continue;
                }
                int from = k * m;
                for (int c = 0; c < m; c++) {
                    y[row + c] -= lik * y[from + c];
                }
            }
            double inverse = 1 / l[i * n + i];
            for (int c = 0; c < m; c++) {
                y[row + c] *= inverse;
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            int row = i * m;
            for (int k = i + 1; k < n; k++) {
                double lki = l[k * n + i];
                if (lki == 0) {
                    continue;
                }
                int from = k * m;
                for (int c = 0; c < m; c++) {
                    y[row + c] -= lki * y[from + c];
                }
            }
            double inverse = 1 / l[i * n + i];
            for (int c = 0; c < m; c++) {
                y[row + c] *= inverse;
            }
        }
        return new Matrix(n, m, y);
    }

    /**
     * Eigen-decomposition of a symmetric matrix ({@link SymmetricEigensolver}: Householder tridiagonalisation and
     * implicit QR, ~6n³ flops).
     *
     * @return eigenvalues ascending, with the matching unit eigenvectors as the columns of {@code vectors}
     */
    public Eigen symmetricEigen() {
        return SymmetricEigensolver.decompose(this);
    }

    /**
     * The reference for {@link #symmetricEigen()}: the cyclic Jacobi method, plane rotations zeroing the off-diagonal
     * entries sweep by sweep until they are below {@code 1e-12} of the matrix's norm. Simple enough to trust and with
     * a small relative error on small eigenvalues, but each sweep costs ~20n³ flops over strided columns (a minute at
     * n = 512), so tests compare against it and nothing else calls it.
     *
     * @return eigenvalues ascending, with the matching unit eigenvectors as the columns of {@code vectors}
     */
    public Eigen jacobiEigen() {
        requireSquare();
        int n = rows;
        double[] a = values.clone();
        double[] v = identity(n).values;
        double norm = frobeniusNorm();
        double tolerance = 1e-12 * Math.max(norm, Double.MIN_NORMAL);
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += a[p * n + q] * a[p * n + q];
                }
            }
            if (Math.sqrt(2 * off) <= tolerance) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p * n + q];
                    if (Math.abs(apq) <= tolerance * 1e-3) {
                        continue;
                    }
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k * n + p];
                        double akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p * n + k];
                        double aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k * n + p];
                        double vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(a[x * n + x], a[y * n + y]));
        double[] eigenvalues = new double[n];
        Matrix vectors = zeros(n, n);
        for (int j = 0; j < n; j++) {
            int src = order[j];
            eigenvalues[j] = a[src * n + src];
            for (int k = 0; k < n; k++) {
                vectors.values[k * n + j] = v[k * n + src];
            }
        }
        return new Eigen(eigenvalues, vectors);
    }

    /**
     * A symmetric matrix's eigen-decomposition.
     *
     * @param eigenvalues ascending
     * @param vectors     [n, n], column j is the unit eigenvector of {@code eigenvalues[j]}
     */
    public record Eigen(double[] eigenvalues, Matrix vectors) {
    }

    private void requireSquare() {
        if (rows != cols) {
            throw new IllegalArgumentException("expected a square matrix, got " + rows + "x" + cols);
        }
    }

    private void requireSameShape(Matrix other) {
        if (rows != other.rows || cols != other.cols) {
            throw new IllegalArgumentException("shapes differ: " + rows + "x" + cols + " and " + other.rows + "x"
                    + other.cols);
        }
    }
}
