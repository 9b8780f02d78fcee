package io.emend.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.emend.core.graph.WeightDelta;

import java.util.List;
import java.util.Map;

/**
 * The arrays a fine-tune trains, as deltas over a frozen model. Leaves live in one base manager owned by this object;
 * every array a step creates belongs to the step's scope (leaves are only ever second operands, or are first copied
 * into the step by {@link #inScope}), so nothing accumulates across steps.
 */
public interface TrainableParameters extends AutoCloseable {

    /** Leaf arrays by name, in a fixed order; each requires a gradient. */
    Map<String, NDArray> arrays();

    /** The deltas the forward adds for evaluation and output (no dropout), created in {@code step}. */
    Map<String, List<WeightDelta>> deltas(NDManager step);

    /** The deltas a training forward adds: {@link #deltas} plus LoRA dropout where it is configured. */
    default Map<String, List<WeightDelta>> trainingDeltas(NDManager step) {
        return deltas(step);
    }

    /** {@code Σ ‖W - W_parent‖²} over every trained weight, a scalar in {@code step} (L2-SP's distance). */
    NDArray squaredDistanceFromParent(NDManager step);

    /** O-LoRA's overlap {@code Σ ‖A_new·A_oldᵀ‖²} with the prior adapters, a scalar in {@code step}; 0 without any. */
    NDArray overlapWithPrior(NDManager step);

    /** Copies of the current values, by name. */
    default Map<String, float[]> values() {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        arrays().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    /** Overwrites the values (outside any gradient collection). */
    default void load(Map<String, float[]> values) {
        arrays().forEach((k, v) -> {
            float[] x = values.get(k);
            if (x == null || x.length != v.size()) {
                throw new IllegalArgumentException("no values of the right size for parameter " + k);
            }
            v.set(x);
        });
    }

    @Override
    void close();

    /** A differentiable copy of {@code leaf} owned by {@code step}, so ops may take it as their first operand. */
    static NDArray inScope(NDManager step, NDArray leaf) {
        return step.zeros(leaf.getShape(), leaf.getDataType()).add(leaf);
    }
}
