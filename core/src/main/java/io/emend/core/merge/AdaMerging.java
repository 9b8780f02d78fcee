package io.emend.core.merge;

import java.util.List;
import java.util.Map;

/**
 * AdaMerging (Yang et al., 2024): task arithmetic whose coefficients are learned instead of set. Each model's task
 * vector δₖ = xₖ − base gets a coefficient λₖ (task-wise) or one per layer λₖ,ₗ (layer-wise, the tensors outside
 * the layers sharing one more), and the coefficients are fitted by minimizing the prediction entropy of the merged
 * model on unlabeled text. The merged tensor is then
 * <pre>
 *   merged = base + Σₖ λₖ,ₗ₍tensor₎ · δₖ
 * </pre>
 * The search runs before the merge ({@link io.emend.core.merge.adamerging.CoefficientSearch}, on core's
 * differentiable graph); it rewrites each model's {@code weight} into the learned values, so this class's per-tensor
 * step is plain, unnormalized task arithmetic with those weights.
 *
 * <p>On a language model, entropy alone has a shortcut the paper's vision classifiers lack: the merge grows more
 * confident everywhere by dropping the task vector of the domain whose text is hard to predict and sharpening the
 * others (measured: the WikiText vector went to 0 and held-out WikiText perplexity to 6x task arithmetic's). So the
 * search starts where task arithmetic stands ({@code weight · lambda}), stays in {@code [min_weight, max_weight]}
 * (the authors' implementation clamps to [0, 1]), is pulled back toward its start by a quadratic prior (the
 * regularizer of follow-ups that keep the adapted coefficients near the task-arithmetic prior) and, with
 * {@code held_out > 0}, watches sequences it does not adapt on and returns the coefficients where they scored best,
 * stopping after {@code patience} measurements without improvement. What it watches there is by default the merged
 * model's next-token loss on those sequences (unlabeled text is its own target for a language model), because the
 * held-out entropy falls along the same shortcut as the adaptation entropy (measured: 2.18 → 1.76 nats while
 * WikiText perplexity tripled), so watching it never stops the search; {@code held_out_measure: entropy} watches it
 * anyway. {@code prior: 0, held_out: 0} is the paper's plain search. A recipe:
 * <pre>
 * merge_method: adamerging
 * base_model: ./base
 * models:
 *   - model: ./stories
 *   - model: ./wiki
 *     parameters: {weight: 0.4}     # this model's task-arithmetic weight (default 0.3, the paper's prior)
 * parameters:
 *   lambda: 1.0                     # task arithmetic's scale: each model starts at weight · lambda (default 1)
 *   granularity: layer              # task (one λ per model) | layer (one per model and layer)
 *   steps: 100                      # most Adam steps (default 100)
 *   lr: 0.01                        # Adam's step size (default 0.01)
 *   prior: 4.0                      # γ of γ/2 · Σₖ meanₗ (λₖ,ₗ − start)² added to the entropy (default 4; 0: none)
 *   min_weight: 0.0                 # range of every coefficient (default [0, 1])
 *   max_weight: 1.0
 *   held_out: 0.25                  # fraction of the sequences kept for early stopping (default 0.25; 0: none)
 *   eval_every: 5                   # steps between held-out measurements (default 5)
 *   patience: 2                     # measurements without improvement before stopping (default 2)
 *   held_out_measure: next_token_loss # or entropy: what early stopping watches (default next_token_loss)
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
    /**
     * The prior's default strength. The entropy's slope along λ was about 1 nat per unit on stories260k's task
     * vectors, and the prior's pull at distance d is γ·d, so γ = 4 lets a coefficient move about 0.25 from its start
     * before the pull balances the slope: room to adapt, not to drop a task vector.
     */
    public static final double DEFAULT_PRIOR = 4.0;
    /** A quarter of the sequences watch for early stopping; the rest adapt. */
    public static final double DEFAULT_HELD_OUT = 0.25;
    public static final int DEFAULT_EVAL_EVERY = 5;
    public static final int DEFAULT_PATIENCE = 2;

    private static final List<Parameter> PARAMETERS = List.of(
            Parameter.setting("weight", Parameter.Scope.PER_MODEL, DEFAULT_INITIAL_WEIGHT),
            Parameter.choice("granularity", List.of("task", "layer")),
            Parameter.count("steps", 100),
            Parameter.setting("lr", Parameter.Scope.GLOBAL, 0.01),
            Parameter.text("text"),
            Parameter.count("sequence_length", 128),
            Parameter.count("batch_size", 4),
            Parameter.count("sequences", 64),
            Parameter.setting("lambda", Parameter.Scope.GLOBAL, 1.0),
            Parameter.setting("prior", Parameter.Scope.GLOBAL, DEFAULT_PRIOR),
            Parameter.setting("min_weight", Parameter.Scope.GLOBAL, 0.0),
            Parameter.setting("max_weight", Parameter.Scope.GLOBAL, 1.0),
            Parameter.setting("held_out", Parameter.Scope.GLOBAL, DEFAULT_HELD_OUT),
            Parameter.count("eval_every", DEFAULT_EVAL_EVERY),
            Parameter.count("patience", DEFAULT_PATIENCE),
            Parameter.choice("held_out_measure", List.of("next_token_loss", "entropy")));

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
