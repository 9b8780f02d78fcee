package io.emend.core.merge.adamerging;

import io.emend.core.merge.AdaMerging;
import io.emend.core.merge.Parameter;
import io.emend.core.merge.ParameterValue;
import io.emend.core.merge.recipe.MergeRecipe;

/**
 * The search settings of an {@code adamerging} recipe, read from its top-level parameters (the parser has checked
 * their kinds and the presence of {@code text}; absent ones take {@link AdaMerging}'s defaults).
 *
 * @param granularity    task-wise or layer-wise coefficients
 * @param steps          Adam steps (at most; early stopping may end the search sooner)
 * @param learningRate   Adam's step size on the coefficients
 * @param text           reference of the unlabeled text file, resolved like a model reference
 * @param sequenceLength tokens per sequence cut from the text
 * @param batchSize      sequences per step
 * @param sequences      at most this many sequences are taken from the text (the entropy is reported over them)
 * @param scale          task arithmetic's λ: each model starts at {@code weight · scale}
 * @param prior          strength γ of the pull toward the start, {@code γ/2 · Σₖ meanₗ (λₖ,ₗ − λ⁰ₖ,ₗ)²} added to
 *                       the entropy; 0 is the paper's plain entropy
 * @param minWeight      lowest coefficient the search may reach
 * @param maxWeight      highest coefficient the search may reach
 * @param heldOut        fraction of the sequences kept out of the search to watch for early stopping; 0 for none
 * @param evalEvery      steps between two measurements of the held-out entropy
 * @param patience       measurements without improvement after which the search stops
 * @param heldOutMeasure what early stopping watches on the held-out sequences
 */
public record AdaMergingSettings(Granularity granularity, int steps, double learningRate, String text,
                                 int sequenceLength, int batchSize, int sequences, double scale, double prior,
                                 double minWeight, double maxWeight, double heldOut, int evalEvery, int patience,
                                 HeldOutMeasure heldOutMeasure) {

    public AdaMergingSettings {
        if (steps < 0 || !(learningRate > 0) || sequenceLength < 2 || batchSize < 1 || sequences < 1) {
            throw new IllegalArgumentException("AdaMerging needs steps >= 0, lr > 0, sequence_length >= 2, batch_size"
                    + " >= 1 and sequences >= 1");
        }
        if (!Double.isFinite(scale) || !(prior >= 0) || !Double.isFinite(prior)) {
            throw new IllegalArgumentException("AdaMerging needs a finite lambda and prior >= 0 (got lambda " + scale
                    + ", prior " + prior + ")");
        }
        if (!(minWeight < maxWeight) || !Double.isFinite(minWeight) || !Double.isFinite(maxWeight)) {
            throw new IllegalArgumentException("AdaMerging needs min_weight < max_weight (got " + minWeight + " and "
                    + maxWeight + ")");
        }
        if (!(heldOut >= 0 && heldOut < 1) || evalEvery < 1 || patience < 1) {
            throw new IllegalArgumentException("AdaMerging needs 0 <= held_out < 1, eval_every >= 1 and patience >= 1"
                    + " (got held_out " + heldOut + ", eval_every " + evalEvery + ", patience " + patience + ")");
        }
    }

    /**
     * @throws IllegalArgumentException for settings out of range, with their recipe names
     */
    public static AdaMergingSettings of(MergeRecipe recipe) {
        if (!(recipe.method() instanceof AdaMerging method)) {
            throw new IllegalArgumentException("not an adamerging recipe: " + recipe.method().name());
        }
        if (!(recipe.parameters().get("text") instanceof ParameterValue.Text(String text))) {
            throw new IllegalArgumentException("an adamerging recipe needs parameter 'text'");
        }
        return new AdaMergingSettings(
                Granularity.values()[(int) number(recipe, method, "granularity")],
                (int) number(recipe, method, "steps"),
                number(recipe, method, "lr"),
                text,
                (int) number(recipe, method, "sequence_length"),
                (int) number(recipe, method, "batch_size"),
                (int) number(recipe, method, "sequences"),
                number(recipe, method, "lambda"),
                number(recipe, method, "prior"),
                number(recipe, method, "min_weight"),
                number(recipe, method, "max_weight"),
                number(recipe, method, "held_out"),
                (int) number(recipe, method, "eval_every"),
                (int) number(recipe, method, "patience"),
                HeldOutMeasure.values()[(int) number(recipe, method, "held_out_measure")]);
    }

    /** What early stopping watches on the held-out sequences. */
    public enum HeldOutMeasure {
        /**
         * The merged model's next-token loss (log perplexity): the text's own targets, which a language model's
         * unlabeled text always has.
         */
        NEXT_TOKEN_LOSS,
        /** The search's own objective, the prediction entropy. */
        ENTROPY
    }

    private static double number(MergeRecipe recipe, AdaMerging method, String name) {
        Parameter p = method.parameter(name);
        if (recipe.parameters().get(name) instanceof ParameterValue.Scalar(double v)) {
            return v;
        }
        return p.defaultValue().orElseThrow();
    }
}
