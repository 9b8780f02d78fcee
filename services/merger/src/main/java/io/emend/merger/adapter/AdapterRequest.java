package io.emend.merger.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.emend.core.infer.QuantRule;
import io.emend.core.merge.lora.AdapterMerge;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.merger.job.InvalidRequest;
import io.emend.merger.job.Output;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A merge request about LoRA adapter versions, in the shape of a mergekit recipe: either several adapters of one
 * base combined into a new adapter,
 * <pre>
 * merge_method: ties              # linear | cat | ties | dare_linear | dare_ties (PEFT's combination types)
 * adapters:
 *   - adapter: support-lora:3     # registry references whose versions are adapters of one base
 *     parameters: {weight: 0.7}   # default 1
 *   - adapter: billing-lora@candidate
 *     parameters: {weight: 0.3}
 * parameters:
 *   rank: 16                      # target rank of the re-factorization; required except for cat (rank = Σ rᵢ)
 *   density: 0.5                  # ties / dare_*: fraction kept (default 1)
 * random_seed: 7                  # DARE's draws and the SVD's directions (default as in recipes)
 * output: {model: support-lora-combined, alias: candidate}
 * </pre>
 * or one adapter folded into its base as a new full version,
 * <pre>
 * merge_method: materialize
 * adapter: support-lora@candidate # its adapter-of parent is the base
 * parameters:
 *   quantization: q8_0            # none (default) | q8_0 | q4_0 | mixed | attention=q8_0,mlp=q4_0,...: the serving rule
 * evaluation:
 *   text: sha256:9f86…            # optional: perplexity of the adapter unmerged vs the materialized model
 * output: {model: support-bot}
 * </pre>
 * Which of these a body is shows in its keys ({@code adapters}, or {@code merge_method: materialize}); every other
 * body is a mergekit recipe of full models.
 */
public sealed interface AdapterRequest {

    /** Where the result goes. */
    Output output();

    /** The adapter references as written, each once. */
    List<String> adapters();

    /** Combination types and the core combination each names. */
    Map<String, AdapterMerge.Combination> METHODS = Map.of("linear", AdapterMerge.Combination.LINEAR,
            "cat", AdapterMerge.Combination.CONCATENATION, "ties", AdapterMerge.Combination.TIES,
            "dare_linear", AdapterMerge.Combination.DARE_LINEAR, "dare_ties", AdapterMerge.Combination.DARE_TIES);
    /** The methods in the order messages list them. */
    List<String> METHOD_NAMES = List.of("linear", "cat", "ties", "dare_linear", "dare_ties");
    String MATERIALIZE = "materialize";

    /**
     * Adapters combined into one.
     *
     * @param rank    the target rank; empty for {@code cat}
     * @param density fraction TIES/DARE keep
     */
    record Combination(String method, AdapterMerge.Combination how, List<String> adapters, List<Double> weights,
                       OptionalInt rank, double density, long seed, Output output) implements AdapterRequest {
        public Combination {
            adapters = List.copyOf(adapters);
            weights = List.copyOf(weights);
        }
    }

    /**
     * An adapter folded into its base.
     *
     * @param quantization the serving rule to materialize through, empty for none (plain F32 arithmetic in the base's
     *                     dtypes)
     * @param evaluation   the evaluation text's reference, if any
     */
    record Materialization(String adapter, Optional<QuantRule> quantization, Optional<String> evaluation,
                           Output output) implements AdapterRequest {
        @Override
        public List<String> adapters() {
            return List.of(adapter);
        }
    }

    /** Whether a body is an adapter request (a malformed body is not: the recipe parser reports it with its line). */
    static boolean matches(String body, boolean json) {
        JsonNode root = tree(body, json);
        return root != null && root.isObject() && (root.has("adapters")
                || MATERIALIZE.equals(root.path("merge_method").asText(null)));
    }

    /**
     * Reads an adapter request.
     *
     * @throws InvalidRequest naming the field at fault, with the valid keys or values
     */
    static AdapterRequest parse(String body, boolean json) {
        JsonNode root = tree(body, json);
        if (root == null || !root.isObject()) {
            throw new InvalidRequest("", "an adapter request is a map; see services/merger/README.md");
        }
        String method = root.path("merge_method").asText("");
        if (method.equals(MATERIALIZE)) {
            return materialization(root);
        }
        AdapterMerge.Combination how = METHODS.get(method);
        if (how == null) {
            throw new InvalidRequest("merge_method", "merge_method '" + method + "' does not combine adapters (valid: "
                    + String.join(", ", METHOD_NAMES) + "; or materialize with one adapter)");
        }
        keys(root, "", Set.of("merge_method", "adapters", "parameters", "random_seed", "output"));
        JsonNode list = root.get("adapters");
        if (!list.isArray() || list.isEmpty()) {
            throw new InvalidRequest("adapters", "adapters must be a non-empty list of {adapter: REF, parameters:"
                    + " {weight: W}}");
        }
        List<String> refs = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "adapters[" + i + "]";
            JsonNode entry = list.get(i);
            if (!entry.isObject()) {
                throw new InvalidRequest(at, at + " must be a map {adapter: REF, parameters: {weight: W}}");
            }
            keys(entry, at + ".", Set.of("adapter", "parameters"));
            String ref = text(entry, "adapter", at + ".adapter");
            if (refs.contains(ref)) {
                throw new InvalidRequest(at + ".adapter", ref + " is listed twice; give it one weight");
            }
            refs.add(ref);
            JsonNode p = entry.path("parameters");
            if (!p.isMissingNode()) {
                keys(p, at + ".parameters.", Set.of("weight"));
            }
            weights.add(number(p, "weight", at + ".parameters.weight", 1.0));
        }
        JsonNode p = root.path("parameters");
        boolean sparsifies = how == AdapterMerge.Combination.TIES || how == AdapterMerge.Combination.DARE_LINEAR
                || how == AdapterMerge.Combination.DARE_TIES;
        Set<String> valid = how == AdapterMerge.Combination.CONCATENATION ? Set.of()
                : sparsifies ? Set.of("rank", "density") : Set.of("rank");
        if (!p.isMissingNode()) {
            if (how == AdapterMerge.Combination.CONCATENATION && p.has("rank")) {
                throw new InvalidRequest("parameters.rank", "cat stacks the factors, so its rank is the sum of the"
                        + " adapters' ranks; it takes no target rank (use linear, ties or dare_* to re-factorize)");
            }
            keys(p, "parameters.", valid);
        }
        OptionalInt rank = OptionalInt.empty();
        if (how != AdapterMerge.Combination.CONCATENATION) {
            double r = number(p, "rank", "parameters.rank", Double.NaN);
            if (Double.isNaN(r)) {
                throw new InvalidRequest("parameters.rank", method + " re-factorizes the combined delta by SVD; give"
                        + " parameters.rank, the target rank");
            }
            if (r < 1 || r != Math.rint(r)) {
                throw new InvalidRequest("parameters.rank", "parameters.rank must be a whole number >= 1, got " + r);
            }
            rank = OptionalInt.of((int) r);
        }
        double density = number(p, "density", "parameters.density", 1.0);
        if (!(density > 0 && density <= 1)) {
            throw new InvalidRequest("parameters.density", "parameters.density must be in (0, 1], got " + density);
        }
        double seed = number(root, "random_seed", "random_seed", MergeRecipe.DEFAULT_SEED);
        if (seed != Math.rint(seed)) {
            throw new InvalidRequest("random_seed", "random_seed must be a whole number");
        }
        return new Combination(method, how, refs, weights, rank, density, (long) seed, Output.of(root.get("output")));
    }

    private static Materialization materialization(JsonNode root) {
        keys(root, "", Set.of("merge_method", "adapter", "parameters", "evaluation", "output"));
        if (root.has("adapters")) {
            throw new InvalidRequest("adapters", "materialize folds one adapter into its base: give adapter: REF");
        }
        String adapter = text(root, "adapter", "adapter");
        JsonNode p = root.path("parameters");
        Optional<QuantRule> rule = Optional.empty();
        if (!p.isMissingNode()) {
            keys(p, "parameters.", Set.of("quantization"));
            String spec = p.path("quantization").asText("none");
            if (!spec.equalsIgnoreCase("none")) {
                try {
                    rule = Optional.of(QuantRule.parse(spec));
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequest("parameters.quantization", "parameters.quantization '" + spec + "': "
                            + e.getMessage() + " (valid: none, q8_0, q4_0, f16, mixed, or attention=..,mlp=..,head=..)");
                }
            }
        }
        Optional<String> evaluation = Optional.empty();
        JsonNode e = root.path("evaluation");
        if (!e.isMissingNode()) {
            keys(e, "evaluation.", Set.of("text"));
            evaluation = Optional.of(text(e, "text", "evaluation.text"));
        }
        return new Materialization(adapter, rule, evaluation, Output.of(root.get("output")));
    }

    private static JsonNode tree(String body, boolean json) {
        try {
            ObjectMapper mapper = json ? new ObjectMapper() : new YAMLMapper();
            return mapper.readTree(body == null ? "" : body);
        } catch (IOException e) {
            return null;
        }
    }

    private static void keys(JsonNode node, String prefix, Set<String> valid) {
        if (!node.isObject()) {
            throw new InvalidRequest(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1),
                    (prefix.isEmpty() ? "the request" : prefix.substring(0, prefix.length() - 1)) + " must be a map");
        }
        for (var names = node.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!valid.contains(key)) {
                String[] sorted = valid.toArray(String[]::new);
                Arrays.sort(sorted);
                throw new InvalidRequest(prefix + key, prefix + key + " is not supported here (valid: "
                        + (sorted.length == 0 ? "none" : String.join(", ", sorted)) + ")");
            }
        }
    }

    private static String text(JsonNode node, String key, String field) {
        JsonNode v = node.get(key);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new InvalidRequest(field, field + " is required, as a string");
        }
        return v.asText();
    }

    private static double number(JsonNode node, String key, String field, double fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw new InvalidRequest(field, field + " must be a finite number, got " + v);
        }
        return v.asDouble();
    }
}
