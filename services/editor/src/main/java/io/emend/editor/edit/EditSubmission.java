package io.emend.editor.edit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.EditRequests;
import io.emend.core.edit.InvalidEditException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A {@code POST /v1/edits} body, checked field by field before anything is written. Untyped JSON stops here:
 * <pre>{@code
 * {"model": "support-bot@production",            // the version to edit: name, name@alias or name:N
 *  "method": "memit",                            // rome | memit | alphaedit
 *  "requests": [{"prompt": "...", "subject": "...", "target_new": "...", ...}],   // EasyEdit / CounterFact layout
 *  "options": {"layers": [4, 5], "seed": 0, "batchSize": 100},                    // optional
 *  "gate": {"minEfficacy": 0.9, "minParaphrase": 0.5, "minNeighborhood": 0.8, "maxPerplexityIncrease": 0.02},
 *  "output": {"model": "support-bot", "alias": "production"}}                     // optional; model defaults to the input's
 * }</pre>
 *
 * @param model    the reference to edit
 * @param output   where the result goes; {@code model} empty means the input's model
 */
public record EditSubmission(String model, EditMethod method, List<EditRequest> requests, EditOptions options,
                             EditGate gate, Output output) {

    /** Model and alias names, as the registry accepts them. */
    public static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
    private static final Set<String> FIELDS = Set.of("model", "method", "requests", "options", "gate", "output");
    private static final Set<String> OPTION_FIELDS = Set.of("layers", "seed", "batchSize");
    private static final Set<String> GATE_FIELDS = Set.of("minEfficacy", "minParaphrase", "minNeighborhood",
            "maxPerplexityIncrease");
    private static final Set<String> OUTPUT_FIELDS = Set.of("model", "alias");
    private static final ObjectMapper JSON = new ObjectMapper();

    public EditSubmission {
        requests = List.copyOf(requests);
    }

    /**
     * Where the edited version goes.
     *
     * @param model the model to add the version to; empty: the edited model's
     * @param alias the alias to move to it once it passes the gate; empty: none
     */
    public record Output(Optional<String> model, Optional<String> alias) {

        public static Output none() {
            return new Output(Optional.empty(), Optional.empty());
        }
    }

    /**
     * @param maxEdits the most requests one submission may carry
     * @throws InvalidSubmission naming the field at fault
     */
    public static EditSubmission parse(String body, int maxEdits) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidSubmission("body", "the request is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new InvalidSubmission("body", "the request must be a JSON object with model, method and requests");
        }
        onlyKnown((ObjectNode) root, "", FIELDS);
        String model = text(root, "model").orElseThrow(() -> new InvalidSubmission("model",
                "model is required: the version to edit, as name, name@alias or name:N"));
        String methodName = text(root, "method").orElseThrow(() -> new InvalidSubmission("method",
                "method is required: rome, memit or alphaedit"));
        EditMethod method;
        try {
            method = EditMethod.parse(methodName);
        } catch (IllegalArgumentException e) {
            throw new InvalidSubmission("method", e.getMessage());
        }
        List<EditRequest> requests = requests(root.get("requests"), maxEdits);
        return new EditSubmission(model, method, requests, options(root.get("options")), gate(root.get("gate")),
                output(root.get("output")));
    }

    /**
     * The requests in EasyEdit / CounterFact layout, validated by core's reader (fields present, subject in its
     * prompt, target not empty) and counted against the limit.
     */
    static List<EditRequest> requests(JsonNode node, int maxEdits) {
        if (node == null || node.isNull()) {
            throw new InvalidSubmission("requests", "requests is required: an array of {prompt, subject, target_new}");
        }
        if (!node.isArray()) {
            throw new InvalidSubmission("requests", "requests must be an array of request objects");
        }
        if (node.size() > maxEdits) {
            throw new InvalidSubmission("requests", "too many edits: " + node.size() + " in one request, at most "
                    + maxEdits + " (split them into several jobs, or raise emend.editor.limits.max-edits)");
        }
        try {
            return EditRequests.parse(node.toString());
        } catch (InvalidEditException e) {
            throw new InvalidSubmission(e.index() >= 0 ? "requests[" + e.index() + "]." + e.field() : "requests",
                    e.getMessage());
        }
    }

    private static EditOptions options(JsonNode node) {
        if (node == null || node.isNull()) {
            return EditOptions.defaults();
        }
        if (!node.isObject()) {
            throw new InvalidSubmission("options", "options must be an object");
        }
        onlyKnown((ObjectNode) node, "options.", OPTION_FIELDS);
        Optional<List<Integer>> layers = Optional.empty();
        JsonNode l = node.get("layers");
        if (l != null && !l.isNull()) {
            if (!l.isArray() || l.isEmpty()) {
                throw new InvalidSubmission("options.layers", "options.layers must be a non-empty array of layer"
                        + " indices");
            }
            List<Integer> list = new ArrayList<>();
            TreeSet<Integer> seen = new TreeSet<>();
            for (JsonNode x : l) {
                if (!x.canConvertToExactIntegral() || x.asInt() < 0 || !seen.add(x.asInt())) {
                    throw new InvalidSubmission("options.layers", "options.layers must hold distinct layer indices"
                            + " >= 0, got " + l);
                }
                list.add(x.asInt());
            }
            layers = Optional.of(List.copyOf(seen));
        }
        long seed = 0;
        JsonNode s = node.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.canConvertToExactIntegral()) {
                throw new InvalidSubmission("options.seed", "options.seed must be an integer");
            }
            seed = s.asLong();
        }
        int batch = EditOptions.DEFAULT_BATCH_SIZE;
        JsonNode b = node.get("batchSize");
        if (b != null && !b.isNull()) {
            if (!b.canConvertToExactIntegral() || b.asInt() < 1) {
                throw new InvalidSubmission("options.batchSize", "options.batchSize must be an integer >= 1");
            }
            batch = b.asInt();
        }
        return new EditOptions(layers, seed, batch);
    }

    private static EditGate gate(JsonNode node) {
        if (node == null || node.isNull()) {
            return EditGate.open();
        }
        if (!node.isObject()) {
            throw new InvalidSubmission("gate", "gate must be an object");
        }
        onlyKnown((ObjectNode) node, "gate.", GATE_FIELDS);
        EditGate gate = new EditGate(number(node, "minEfficacy"), number(node, "minParaphrase"),
                number(node, "minNeighborhood"), number(node, "maxPerplexityIncrease"));
        for (Map.Entry<String, OptionalDouble> e : Map.of("minEfficacy", gate.minEfficacy(),
                "minParaphrase", gate.minParaphrase(), "minNeighborhood", gate.minNeighborhood()).entrySet()) {
            EditGate.rangeError("gate." + e.getKey(), e.getValue(), true).ifPresent(m -> {
                throw new InvalidSubmission("gate." + e.getKey(), m);
            });
        }
        EditGate.rangeError("gate.maxPerplexityIncrease", gate.maxPerplexityIncrease(), false).ifPresent(m -> {
            throw new InvalidSubmission("gate.maxPerplexityIncrease", m);
        });
        return gate;
    }

    private static Output output(JsonNode node) {
        if (node == null || node.isNull()) {
            return Output.none();
        }
        if (!node.isObject()) {
            throw new InvalidSubmission("output", "output must be an object {model?, alias?}");
        }
        onlyKnown((ObjectNode) node, "output.", OUTPUT_FIELDS);
        Optional<String> model = text(node, "model", "output.model");
        Optional<String> alias = text(node, "alias", "output.alias");
        model.ifPresent(m -> requireName("output.model", m));
        alias.ifPresent(a -> requireName("output.alias", a));
        return new Output(model, alias);
    }

    /** Checks a model or alias name against the registry's pattern. */
    public static void requireName(String field, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new InvalidSubmission(field, field + " '" + name + "' is not a valid name (lower-case letters,"
                    + " digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters)");
        }
    }

    private static void onlyKnown(ObjectNode node, String prefix, Set<String> known) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new InvalidSubmission(prefix + name, "unknown field '" + prefix + name + "'; valid fields: "
                        + String.join(", ", new TreeSet<>(known)));
            }
        }
    }

    private static Optional<String> text(JsonNode node, String name) {
        return text(node, name, name);
    }

    private static Optional<String> text(JsonNode node, String name, String field) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new InvalidSubmission(field, field + " must be a non-empty string");
        }
        return Optional.of(v.asText().strip());
    }

    private static OptionalDouble number(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return OptionalDouble.empty();
        }
        if (!v.isNumber()) {
            throw new InvalidSubmission("gate." + name, "gate." + name + " must be a number");
        }
        return OptionalDouble.of(v.asDouble());
    }
}
