package io.emend.core.merge;

import java.util.List;
import java.util.Map;

/**
 * AdaMerging (Yang et al., 2024): task arithmetic whose coefficients are learned instead of set. Each model's task
 * vector δₖ = xₖ − base gets a coefficient λₖ (task-wise) or one per layer λₖ,ₗ (layer-wise, the tensors outside
 * the layers sharing one more), and the coefficients are fitted by minimizing the prediction entropy of the merged
 * model on unlabeled text, starting from each model's {@code weight} and kept in [0, 1]. The merged tensor is then
 * <pre>
 *   merged = base + Σₖ λₖ,ₗ₍tensor₎ · δₖ
 * </pre>
 * The search runs before the merge ({@link io.emend.core.merge.adamerging.CoefficientSearch}, on core's
 * differentiable graph); it rewrites each model's {@code weight} into the learned values, so this class's per-tensor
 * step is plain, unnormalized task arithmetic with those weights. A recipe:
 * <pre>
 * merge_method: adamerging
 * base_model: ./base
 * models:
 *   - model: ./stories
 *   - model: ./wiki
 *     parameters: {weight: 0.4}     # initial λ of this model (default 0.3, the paper's)
 * parameters:
 *   granularity: layer              # task (one λ per model) | layer (one per model and layer)
 *   steps: 100                      # Adam steps (default 100)
 *   lr: 0.01                        # Adam's step size (default 0.01)
 *   text: ./unlabeled.txt           # required: unlabeled text, resolved like a model reference
 *   sequence_length: 128            # tokens per sequence (default 128)
 *   batch_size: 4                   # sequences per step (default 4)
 *   sequences: 64                   # sequences taken from the text (default 64)
 * </pre>
 * The learned values are written beside the merged model ({@code adamerging.json}) with the entropy before and after.
 */
public final class AdaMerging implements MergeMethod {

    /** The paper's initial coefficient ("prior"), 0.3 for every task vector. */
    public static final double DEFAULT_INITIAL_WEIGHT = 0.3;

    private static final List<Parameter> PARAMETERS = List.of(
            Parameter.setting("weight", Parameter.Scope.PER_MODEL, DEFAULT_INITIAL_WEIGHT),
            Parameter.choice("granularity", List.of("task", "layer")),
            Parameter.count("steps", 100),
            Parameter.setting("lr", Parameter.Scope.GLOBAL, 0.01),
            Parameter.text("text"),
            Parameter.count("sequence_length", 128),
            Parameter.count("batch_size", 4),
            Parameter.count("sequences", 64));

    private static final TaskArithmetic WEIGHTED_SUM = TaskArithmetic.plain();
    private static final TensorParameters UNSCALED = TensorParameters.of(Map.of("lambda", 1.0, "normalize", 0.0));

    @Override
    public String name() {
        return "adamerging";
    }

    @Override
    public String description() {
        return "task arithmetic with coefficients learned by minimizing the merged model's entropy on unlabeled text";
    }

    @Override
    public List<Parameter> parameters() {
        return PARAMETERS;
    }

    @Override
    public boolean needsBase() {
        return true;
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    /** Merges one tensor with the (learned) per-model {@code weight}s: base + Σ weight·δ, no normalization. */
    @Override
    public void merge(TensorMerge m) {
        WEIGHTED_SUM.merge(new TensorMerge(m.tensorName(), m.base(), m.models(), m.modelParameters(), UNSCALED,
                m.seed(), m.out(), m.chunk(), m.offset()));
    }
}
