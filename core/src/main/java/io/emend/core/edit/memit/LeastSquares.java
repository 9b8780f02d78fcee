package io.emend.core.edit.memit;

import io.emend.core.edit.Matrix;

/**
 * MEMIT's rule: {@code V = (λC + K Kᵀ)⁻¹ K}, the minimiser of {@code λ‖ΔW K₀‖² + ‖ΔW K − R‖²} where
 * {@code K₀K₀ᵀ = C}: edits are written as far as the preserved keys allow. With one edit, Sherman–Morrison gives
 * {@code V = C⁻¹k / (λ + kᵀC⁻¹k)}, ROME's direction.
 *
 * @param moments          the layer's key statistics C
 * @param covarianceWeight λ
 */
public record LeastSquares(java.util.function.IntFunction<Matrix> moments, double covarianceWeight)
        implements UpdateRule {

    @Override
    public Matrix rightFactor(int layer, Matrix keys) {
        Matrix system = moments.apply(layer).scale(covarianceWeight).plus(keys.timesOwnTranspose());
        return system.solveSpd(keys);
    }
}
