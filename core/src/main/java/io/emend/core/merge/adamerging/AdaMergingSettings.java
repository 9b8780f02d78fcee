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
 * @param steps          Adam steps
 * @param learningRate   Adam's step size on the coefficients
 * @param text           reference of the unlabeled text file, resolved like a model reference
 * @param sequenceLength tokens per sequence cut from the text
 * @param batchSize      sequences per step
 * @param sequences      at most this many sequences are taken from the text (the entropy is reported over them)
 */
public record AdaMergingSettings(Granularity granularity, int steps, double learningRate, String text,
                                 int sequenceLength, int batchSize, int sequences) {

    public AdaMergingSettings {
        if (steps < 0 || !(learningRate > 0) || sequenceLength < 2 || batchSize < 1 || sequences < 1) {
            throw new IllegalArgumentException("AdaMerging needs steps >= 0, lr > 0, sequence_length >= 2, batch_size"
                    + " >= 1 and sequences >= 1");
        }
    }

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
                (int) number(recipe, method, "sequences"));
    }

    private static double number(MergeRecipe recipe, AdaMerging method, String name) {
        Parameter p = method.parameter(name);
        if (recipe.parameters().get(name) instanceof ParameterValue.Scalar(double v)) {
            return v;
        }
        return p.defaultValue().orElseThrow();
    }
}
