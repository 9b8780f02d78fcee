package io.emend.core.edit.memit;

import io.emend.core.edit.Matrix;

/**
 * How a layer's update turns the edits' keys K into the right factor V of {@code ΔW = R Vᵀ}, R being the residual
 * share of that layer. MEMIT's rule is ridge least squares against the preserved keys' second moment; AlphaEdit
 * projects onto their null space. One rule instance may keep state across sequential batches.
 */
public interface UpdateRule {

    /**
     * @param layer the layer being updated
     * @param keys  [keyDim, edits]
     * @return V, [keyDim, edits]
     */
    Matrix rightFactor(int layer, Matrix keys);

    /** Called once a layer's update is made, with the keys it wrote. */
    default void written(int layer, Matrix keys) {
    }
}
