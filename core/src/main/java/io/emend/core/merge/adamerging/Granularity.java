package io.emend.core.merge.adamerging;

/** How many coefficients each task vector gets. */
public enum Granularity {
    /** One per model: λₖ. */
    TASK,
    /** One per model and layer, λₖ,ₗ, plus one per model for the tensors outside the layers. */
    LAYER
}
