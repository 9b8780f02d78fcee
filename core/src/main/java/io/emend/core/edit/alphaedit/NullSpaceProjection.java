package io.emend.core.edit.alphaedit;

import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.memit.UpdateRule;

import java.util.HashMap;
import java.util.Map;

/**
 * AlphaEdit's rule: with P the projector onto the null space of the preserved keys' second moment C (its eigenvectors
 * of small eigenvalue) and {@code K_p K_pᵀ} the keys written by earlier batches,
 * {@code V = (P (K Kᵀ + K_p K_pᵀ) P + αI)⁻¹ P K}. Since V = P V (the solution lies in P's range), {@code ΔW k ≈ 0} for
 * every preserved key k (P k ≈ 0), which is the point: edits cannot disturb what the statistics saw. The paper writes
 * the system as {@code P(KKᵀ + K_pK_pᵀ) + αI}; on P's range it equals the symmetric form used here, which Cholesky
 * solves.
 *
 * <p>The written keys accumulate in this object across batches (and across calls, when the caller keeps it).
 */
public final class NullSpaceProjection implements UpdateRule {

    private final KeyStatistics stats;
    private final double energy;
    private final double regularization;
    private final Map<Integer, Matrix> projectors;
    private final Map<Integer, Matrix> written;
    /** Layer to {@code P K_p K_pᵀ P}, kept beside {@link #written} so a batch does not multiply two d × d matrices. */
    private final Map<Integer, Matrix> projectedWritten = new HashMap<>();

    /**
     * @param written layer to {@code K_p K_pᵀ} of earlier batches; updated in place
     */
    public NullSpaceProjection(KeyStatistics stats, double energy, double regularization,
                               Map<Integer, Matrix> written) {
        this(stats, energy, regularization, written, new HashMap<>());
    }

    /**
     * @param written     layer to {@code K_p K_pᵀ} of earlier batches; updated in place
     * @param projectors  layer to P, known already (from {@link NullSpaceProjectors}); the others are computed into it
     */
    public NullSpaceProjection(KeyStatistics stats, double energy, double regularization,
                               Map<Integer, Matrix> written, Map<Integer, Matrix> projectors) {
        this.stats = stats;
        this.energy = energy;
        this.regularization = regularization;
        this.written = written;
        this.projectors = projectors;
    }

    /**
     * P for a layer: the sum of {@code u uᵀ} over C's unit eigenvectors u of smallest eigenvalue, as many as keep the
     * eigenvalues' sum within {@code energy · trace(C)}. Then {@code E‖P k‖² = Σ λ ≤ energy · E‖k‖²} for keys k of the
     * statistics' corpus: the bound on how much an edit can move what the model does on ordinary text.
     *
     * @throws IllegalArgumentException when even the smallest eigenvalue exceeds that share (the null space is empty,
     *                                  nothing could be written); the message gives the share it needs
     */
    public Matrix projector(int layer) {
        return projectors.computeIfAbsent(layer, l -> nullSpace(stats.layer(l), energy, l));
    }

    static Matrix nullSpace(Matrix c, double energy, int layer) {
        Matrix.Eigen eigen = c.symmetricEigen();
        double trace = c.meanDiagonal() * c.rows();
        double[] values = eigen.eigenvalues();
        int n = values.length;
        int k = 0;
        double used = 0;
        while (k < n && used + Math.max(0, values[k]) <= energy * trace) {
            used += Math.max(0, values[k]);
            k++;
        }
        if (k == 0) {
            throw new IllegalArgumentException("layer " + layer + ": the key statistics leave no null space within "
                    + energy + " of their energy (the smallest direction alone carries " + (values[0] / trace)
                    + "); raise the null-space energy");
        }
        double[] u = eigen.vectors().values();
        double[] selected = new double[n * k];
        for (int a = 0; a < n; a++) {
            System.arraycopy(u, a * n, selected, a * k, k);
        }
        Matrix uk = new Matrix(n, k, selected);
        Matrix p = uk.timesOwnTranspose();
        return p;
    }

    /** Dimension of a layer's null space (the rank of P). */
    public int nullity(int layer) {
        Matrix p = projector(layer);
        return (int) Math.round(p.meanDiagonal() * p.rows());
    }

    /**
     * {@code P (K Kᵀ + K_p K_pᵀ) P = (P K)(P K)ᵀ + P K_p K_pᵀ P}, the second term accumulated batch by batch: each batch
     * then costs d² per key instead of the two d³ products of P G P (at d = 2,048, ten batches over three layers would
     * spend most of their time there).
     */
    @Override
    public Matrix rightFactor(int layer, Matrix keys) {
        Matrix p = projector(layer);
        Matrix pk = p.times(keys);
        double alpha = regularization * stats.layer(layer).meanDiagonal();
        Matrix system = pk.timesOwnTranspose().plus(projectedWritten(layer, p)).plusDiagonal(alpha);
        return system.solveSpd(pk);
    }

    /** {@code P K_p K_pᵀ P} of the keys written so far; the full product once, for keys written before this object. */
    private Matrix projectedWritten(int layer, Matrix p) {
        return projectedWritten.computeIfAbsent(layer, l -> {
            Matrix before = written.get(l);
            return before == null ? Matrix.zeros(p.rows(), p.cols()) : p.times(before).times(p);
        });
    }

    @Override
    public void written(int layer, Matrix keys) {
        Matrix p = projector(layer);
        Matrix pk = p.times(keys);
        projectedWritten.put(layer, projectedWritten(layer, p).plus(pk.timesOwnTranspose()));
        written.merge(layer, keys.timesOwnTranspose(), Matrix::plus);
    }

    /** The keys written so far, per layer ({@code K_p K_pᵀ}). */
    public Map<Integer, Matrix> writtenKeys() {
        return Map.copyOf(written);
    }
}
