package io.emend.core.merge.adamerging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.merge.ParameterValue;
import io.emend.core.merge.recipe.MergeRecipe;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an AdaMerging search found.
 *
 * @param models        the merged models' references, in recipe order (the base is not among them)
 * @param groups        the coefficient groups
 * @param initial       the starting coefficients [models][groups]
 * @param learned       the learned coefficients [models][groups]
 * @param entropyBefore mean entropy of the merge with the initial coefficients on the whole sample, in nats
 * @param entropyAfter  the same with the learned coefficients
 * @param steps         optimizer steps taken (fewer than asked when early stopping ended the search)
 * @param positions     token positions of the adaptation sample the entropies average over
 * @param heldOutBefore what early stopping watches ({@code heldOutMeasure}, in nats) on the held-out sequences with
 *                      the initial coefficients; NaN without a held-out part
 * @param heldOutAfter  the same with the learned coefficients (the lowest measured)
 * @param heldOutMeasure what those two figures measure
 */
public record LearnedCoefficients(List<String> models, CoefficientGroups groups, double[][] initial,
                                  double[][] learned, double entropyBefore, double entropyAfter, int steps,
                                  long positions, double heldOutBefore, double heldOutAfter,
                                  AdaMergingSettings.HeldOutMeasure heldOutMeasure) {

    /** Name of the file written beside a merged model with these values. */
    public static final String FILE_NAME = "adamerging.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public LearnedCoefficients {
        models = List.copyOf(models);
    }

    /**
     * The recipe with each merged model's {@code weight} replaced by its learned coefficients: a number task-wise;
     * layer-wise a list of {@code {filter: model.layers.i., value}} entries ending with the value for the tensors
     * outside the layers, which is how mergekit recipes write per-tensor values.
     */
    public MergeRecipe applyTo(MergeRecipe recipe) {
        List<MergeRecipe.Slice> slices = new ArrayList<>();
        for (MergeRecipe.Slice slice : recipe.slices()) {
            List<MergeRecipe.SliceSource> sources = new ArrayList<>();
            for (MergeRecipe.SliceSource s : slice.sources()) {
                int k = models.indexOf(s.model());
                if (k < 0) {
                    sources.add(s);
                    continue;
                }
                Map<String, ParameterValue> parameters = new HashMap<>(s.parameters());
                parameters.put("weight", weight(learned[k]));
                sources.add(new MergeRecipe.SliceSource(s.model(), s.layerRange(), parameters));
            }
            slices.add(new MergeRecipe.Slice(sources));
        }
        return new MergeRecipe(recipe.method(), recipe.baseModel(), slices, recipe.sliced(), recipe.parameters(),
                recipe.dtype(), recipe.seed(), recipe.source());
    }

    private ParameterValue weight(double[] coefficients) {
        if (groups.size() == 1) {
            return new ParameterValue.Scalar(coefficients[0]);
        }
        List<ParameterValue.Conditional> conditionals = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            conditionals.add(new ParameterValue.Conditional(groups.filters().get(g),
                    new ParameterValue.Scalar(coefficients[g])));
        }
        // the catch-all entry must come last: a filtered list takes the first entry that matches
        conditionals.sort((a, b) -> Boolean.compare(a.filter().isEmpty(), b.filter().isEmpty()));
        return new ParameterValue.Filtered(conditionals);
    }

    /** The coefficients and entropies as JSON, kept beside the merged model. */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("granularity", groups.granularity().name().toLowerCase(java.util.Locale.ROOT));
        root.put("steps", steps);
        root.put("positions", positions);
        root.put("entropy_before", entropyBefore);
        root.put("entropy_after", entropyAfter);
        if (!Double.isNaN(heldOutBefore)) {
            root.put("held_out_measure", heldOutMeasure.name().toLowerCase(java.util.Locale.ROOT));
            root.put("held_out_before", heldOutBefore);
            root.put("held_out_after", heldOutAfter);
        }
        ArrayNode list = root.putArray("models");
        for (int k = 0; k < models.size(); k++) {
            ObjectNode m = list.addObject();
            m.put("model", models.get(k));
            ArrayNode coefficients = m.putArray("coefficients");
            for (int g = 0; g < groups.size(); g++) {
                ObjectNode c = coefficients.addObject();
                Optional<String> filter = groups.filters().get(g);
                filter.ifPresent(f -> c.put("filter", f));
                c.put("group", groups.label(g));
                c.put("initial", initial[k][g]);
                c.put("learned", learned[k][g]);
            }
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a tree of numbers and strings always serializes", e);
        }
    }
}
