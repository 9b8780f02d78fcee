package io.emend.core.edit.rome;

import io.emend.core.edit.TargetOptions;

/**
 * ROME's settings.
 *
 * @param layer  the layer whose MLP down-projection is rewritten
 * @param target how v* is optimised
 */
public record RomeParams(int layer, TargetOptions target) {

    public RomeParams {
        if (layer < 0) {
            throw new IllegalArgumentException("ROME layer must be >= 0, got " + layer);
        }
    }
}
