package io.emend.core.merge.recipe;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.emend.core.merge.MergeCatalog;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.MergeMethod;
import io.emend.core.merge.Parameter;
import io.emend.core.merge.ParameterValue;
import io.emend.core.merge.recipe.RecipeNode.Field;
import io.emend.core.merge.recipe.RecipeNode.ListNode;
import io.emend.core.merge.recipe.RecipeNode.MapNode;
import io.emend.core.merge.recipe.RecipeNode.ScalarNode;
import io.emend.core.tensor.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads mergekit-style recipes, YAML or JSON, for the subset Emend runs:
 * <pre>
 * merge_method: ties            # linear | task_arithmetic | ties | dare_linear | dare_ties | slerp | adamerging
 * base_model: ./base
 * models:                       # or slices: [{sources: [{model, layer_range: [a, b], parameters}]}]
 *   - model: ./math
 *     parameters: {weight: 0.5, density: [0.3, 0.7]}
 * parameters:                   # global values, and defaults for every model's values
 *   lambda: 1.0
 *   t: [{filter: self_attn, value: [0, 1]}, {value: 0.5}]
 *   granularity: layer          # settings of the whole merge (AdaMerging's): one plain value each, never a list
 * dtype: bfloat16               # float32 | float16 | bfloat16 (out_dtype takes precedence)
 * tokenizer_source: base
 * random_seed: 7                # Emend's addition: DARE's seed
 * </pre>
 * Every key or value outside this subset is rejected with its name and line, never ignored: a silently ignored
 * key would produce a different model than the user asked for.
 */
public final class RecipeParser {

    private static final Set<String> TOP_KEYS = orderedSet("merge_method", "base_model", "models", "slices",
            "parameters", "dtype", "out_dtype", "tokenizer_source", "random_seed");
    private static final Set<String> MODEL_KEYS = orderedSet("model", "parameters");
    private static final Set<String> SLICE_KEYS = orderedSet("sources");
    private static final Set<String> SOURCE_KEYS = orderedSet("model", "layer_range", "parameters");
    private static final Set<String> CONDITIONAL_KEYS = orderedSet("filter", "value");
    private static final Map<String, DType> DTYPES = Map.of("float32", DType.F32, "float16", DType.F16,
            "bfloat16", DType.BF16);

    private static final JsonFactory YAML = new YAMLFactory();
    private static final JsonFactory JSON = new JsonFactory();

    private final MergeCatalog catalog;
    private String source;

    public RecipeParser(MergeCatalog catalog) {
        this.catalog = catalog;
    }

    /** Parses a recipe file: JSON when its name ends in {@code .json}, YAML otherwise. */
    public static MergeRecipe read(Path file) throws IOException {
        String name = file.getFileName().toString();
        return new RecipeParser(MergeCatalog.STANDARD).parse(name, Files.readString(file),
                name.toLowerCase(java.util.Locale.ROOT).endsWith(".json"));
    }

    /**
     * Parses recipe text.
     *
     * @param name the recipe's name in messages
     * @param json whether the text is JSON (else YAML)
     */
    public MergeRecipe parse(String name, String text, boolean json) {
        this.source = name;
        MapNode root = map(document(text, json), "the recipe");
        Map<String, Field> f = root.fields();
        checkKeys(root, TOP_KEYS, "at the top level");

        Field methodField = require(root, "merge_method", "the recipe");
        String methodName = string(methodField);
        MergeMethod method;
        try {
            method = catalog.find(methodName);
        } catch (MergeException e) {
            throw error(methodField.value().line(), e.getMessage());
        }
        Optional<String> base = Optional.ofNullable(f.get("base_model")).map(this::string);
        if (method.needsBase() && base.isEmpty()) {
            throw error(methodField.line(), "merge_method " + method.name() + " needs base_model");
        }
        Map<String, ParameterValue> top = f.containsKey("parameters")
                ? parameters(method, f.get("parameters"), true) : Map.of();
        for (Parameter p : method.parameters()) {
            if (!p.perTensor() && p.required() && !top.containsKey(p.name())) {
                throw error(methodField.line(), "merge_method " + method.name() + " needs parameter '" + p.name()
                        + "' in the top-level parameters");
            }
        }

        boolean hasModels = f.containsKey("models");
        boolean hasSlices = f.containsKey("slices");
        if (hasModels == hasSlices) {
            throw error(hasModels ? f.get("slices").line() : root.line(),
                    "give either models or slices" + (hasModels ? ", not both" : ""));
        }
        List<MergeRecipe.Slice> slices = new ArrayList<>();
        if (hasModels) {
            List<MergeRecipe.SliceSource> sources = new ArrayList<>();
            for (RecipeNode item : list(f.get("models")).items()) {
                MapNode m = map(item, "an entry of models");
                checkKeys(m, MODEL_KEYS, "in a models entry");
                sources.add(sliceSource(method, m, base, top, Optional.empty()));
            }
            if (sources.isEmpty()) {
                throw error(f.get("models").line(), "models is empty");
            }
            slices.add(new MergeRecipe.Slice(sources));
        } else {
            for (RecipeNode item : list(f.get("slices")).items()) {
                MapNode s = map(item, "an entry of slices");
                checkKeys(s, SLICE_KEYS, "in a slices entry");
                Field sourcesField = require(s, "sources", "a slice");
                List<MergeRecipe.SliceSource> sources = new ArrayList<>();
                Integer length = null;
                for (RecipeNode src : list(sourcesField).items()) {
                    MapNode m = map(src, "an entry of sources");
                    checkKeys(m, SOURCE_KEYS, "in a sources entry");
                    Field rangeField = require(m, "layer_range", "a source");
                    MergeRecipe.LayerRange range = layerRange(rangeField);
                    if (length != null && range.length() != length) {
                        throw error(rangeField.line(), "layer_range " + range.start() + ".." + range.end() + " has "
                                + range.length() + " layers but the slice's first source has " + length
                                + "; every source of a slice must have the same number of layers");
                    }
                    length = range.length();
                    sources.add(sliceSource(method, m, base, top, Optional.of(range)));
                }
                if (sources.isEmpty()) {
                    throw error(sourcesField.line(), "sources is empty");
                }
                slices.add(new MergeRecipe.Slice(sources));
            }
            if (slices.isEmpty()) {
                throw error(f.get("slices").line(), "slices is empty");
            }
        }

        Optional<DType> dtype = Optional.empty();
        for (String key : List.of("dtype", "out_dtype")) {
            Field d = f.get(key);
            if (d != null) {
                String v = string(d);
                DType t = DTYPES.get(v);
                if (t == null) {
                    throw error(d.value().line(), key + " '" + v + "' is not supported (valid: bfloat16, float16, float32)");
                }
                dtype = Optional.of(t);
            }
        }
        Field tok = f.get("tokenizer_source");
        if (tok != null && !string(tok).equals("base")) {
            throw error(tok.value().line(), "tokenizer_source '" + string(tok)
                    + "' is not supported (valid: base; the tokenizer is copied from base_model)");
        }
        long seed = MergeRecipe.DEFAULT_SEED;
        Field seedField = f.get("random_seed");
        if (seedField != null) {
            if (!(seedField.value() instanceof ScalarNode(Long l, int line))) {
                throw error(seedField.value().line(), "random_seed must be an integer, not " + seedField.value().kind());
            }
            seed = l;
        }
        return new MergeRecipe(method, base, slices, hasSlices, top, dtype, seed,
                new MergeRecipe.Source(name, text, json));
    }

    private RecipeNode document(String text, boolean json) {
        try (JsonParser p = (json ? JSON : YAML).createParser(text)) {
            p.nextToken();
            RecipeNode root = RecipeNode.read(p, source);
            if (p.nextToken() != null) {
                throw error(p.currentTokenLocation().getLineNr(), "only one document is allowed; found more after the recipe");
            }
            return root;
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
            throw error(line, (json ? "not valid JSON: " : "not valid YAML: ") + e.getOriginalMessage().split("\n")[0]);
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
    }

    private MergeRecipe.SliceSource sliceSource(MergeMethod method, MapNode m, Optional<String> base,
                                                Map<String, ParameterValue> top,
                                                Optional<MergeRecipe.LayerRange> range) {
        Field modelField = require(m, "model", "a model entry");
        String model = string(modelField);
        Map<String, ParameterValue> own = m.fields().containsKey("parameters")
                ? parameters(method, m.fields().get("parameters"), false) : Map.of();
        boolean isBase = base.isPresent() && base.get().equals(model) && method.needsBase();
        if (!isBase) {
            for (Parameter p : method.parameters()) {
                if (p.scope() == Parameter.Scope.PER_MODEL && p.required()
                        && !own.containsKey(p.name()) && !top.containsKey(p.name())) {
                    throw error(modelField.line(), "model '" + model + "' needs parameter '" + p.name() + "' for "
                            + method.name() + " (set it in its parameters or in the top-level parameters)");
                }
            }
        }
        return new MergeRecipe.SliceSource(model, range, own);
    }

    private MergeRecipe.LayerRange layerRange(Field f) {
        ListNode l = list(f);
        if (l.items().size() != 2) {
            throw error(f.line(), "layer_range must be [start, end], got " + l.items().size() + " values");
        }
        long[] v = new long[2];
        for (int i = 0; i < 2; i++) {
            if (!(l.items().get(i) instanceof ScalarNode(Long n, int line)) || n < 0 || n > Integer.MAX_VALUE) {
                throw error(l.items().get(i).line(), "layer_range values must be non-negative integers");
            }
            v[i] = n;
        }
        if (v[1] <= v[0]) {
            throw error(f.line(), "layer_range [" + v[0] + ", " + v[1] + "] is empty; the end is exclusive and must exceed the start");
        }
        return new MergeRecipe.LayerRange((int) v[0], (int) v[1]);
    }

    private Map<String, ParameterValue> parameters(MergeMethod method, Field f, boolean topLevel) {
        MapNode m = map(f.value(), "parameters");
        Map<String, ParameterValue> out = new LinkedHashMap<>();
        for (Field p : m.fields().values()) {
            Optional<Parameter> declared = method.findParameter(p.key());
            if (declared.isEmpty()) {
                throw error(p.line(), "unsupported parameter '" + p.key() + "' for merge_method " + method.name()
                        + " (valid: " + method.describeParameters() + ")");
            }
            if (!topLevel && declared.get().scope() == Parameter.Scope.GLOBAL) {
                throw error(p.line(), "parameter '" + p.key() + "' of " + method.name()
                        + " applies to the whole merge; set it in the top-level parameters");
            }
            out.put(p.key(), declared.get().perTensor() ? value(declared.get(), p.value(), true)
                    : setting(declared.get(), p.value()));
        }
        return out;
    }

    private ParameterValue value(Parameter p, RecipeNode node, boolean conditionalsAllowed) {
        if (node instanceof ScalarNode s) {
            return new ParameterValue.Scalar(scalar(p, s));
        }
        if (node instanceof ListNode l) {
            if (l.items().isEmpty()) {
                throw error(l.line(), "parameter '" + p.name() + "' has an empty list");
            }
            if (l.items().stream().allMatch(i -> i instanceof ScalarNode)) {
                if (p.kind() == Parameter.Kind.FLAG) {
                    throw error(l.line(), "parameter '" + p.name() + "' is true or false; it cannot vary over layers");
                }
                List<Double> values = new ArrayList<>();
                for (RecipeNode i : l.items()) {
                    values.add(scalar(p, (ScalarNode) i));
                }
                return new ParameterValue.Gradient(values);
            }
            if (conditionalsAllowed && l.items().stream().allMatch(i -> i instanceof MapNode)) {
                List<ParameterValue.Conditional> conditionals = new ArrayList<>();
                for (RecipeNode i : l.items()) {
                    MapNode c = (MapNode) i;
                    checkKeys(c, CONDITIONAL_KEYS, "in a conditional value of '" + p.name() + "'");
                    Field value = require(c, "value", "a conditional value of '" + p.name() + "'");
                    Optional<String> filter = Optional.ofNullable(c.fields().get("filter")).map(this::string);
                    conditionals.add(new ParameterValue.Conditional(filter, value(p, value.value(), false)));
                }
                return new ParameterValue.Filtered(conditionals);
            }
            throw error(l.line(), "parameter '" + p.name() + "' must be a number, a list of numbers (a gradient over"
                    + " layers)" + (conditionalsAllowed ? " or a list of {filter, value} entries" : ""));
        }
        throw error(node.line(), "parameter '" + p.name() + "' must be a number or a list, not " + node.kind());
    }

    /** A value of the whole merge: one scalar of the parameter's kind, never a gradient or filter list. */
    private ParameterValue setting(Parameter p, RecipeNode node) {
        if (!(node instanceof ScalarNode s)) {
            throw error(node.line(), "parameter '" + p.name() + "' is one value for the whole merge; it cannot vary"
                    + " over layers or tensors (got " + node.kind() + ")");
        }
        return switch (p.kind()) {
            case TEXT -> {
                if (s.value() instanceof String text && !text.isBlank()) {
                    yield new ParameterValue.Text(text);
                }
                throw error(s.line(), "parameter '" + p.name() + "' must be a non-empty string, not " + s.kind());
            }
            case CHOICE -> {
                int index = s.value() instanceof String word ? p.choices().indexOf(word) : -1;
                if (index < 0) {
                    throw error(s.line(), "parameter '" + p.name() + "' must be one of " + String.join(", ", p.choices())
                            + ", not " + (s.value() == null ? s.kind() : "'" + s.value() + "'"));
                }
                yield new ParameterValue.Scalar(index);
            }
            case COUNT -> {
                if (s.value() instanceof Long n && n > 0 && n <= Integer.MAX_VALUE) {
                    yield new ParameterValue.Scalar(n);
                }
                throw error(s.line(), "parameter '" + p.name() + "' must be a positive whole number, not "
                        + (s.value() == null ? s.kind() : "'" + s.value() + "'"));
            }
            case NUMBER, FLAG -> new ParameterValue.Scalar(scalar(p, s));
        };
    }

    private double scalar(Parameter p, ScalarNode s) {
        if (p.kind() == Parameter.Kind.FLAG) {
            if (s.value() instanceof Boolean b) {
                return b ? 1 : 0;
            }
            throw error(s.line(), "parameter '" + p.name() + "' must be true or false, not " + s.kind());
        }
        if (s.value() instanceof Number n) {
            double v = n.doubleValue();
            if (!Double.isFinite(v)) {
                throw error(s.line(), "parameter '" + p.name() + "' must be finite, got " + v);
            }
            return v;
        }
        throw error(s.line(), "parameter '" + p.name() + "' must be a number, not " + s.kind()
                + (s.value() == null ? "" : " '" + s.value() + "'"));
    }

    private void checkKeys(MapNode m, Set<String> allowed, String where) {
        for (Field f : m.fields().values()) {
            if (!allowed.contains(f.key())) {
                throw error(f.line(), "unsupported key '" + f.key() + "' " + where + " (supported: "
                        + String.join(", ", allowed) + ")");
            }
        }
    }

    private Field require(MapNode m, String key, String what) {
        Field f = m.fields().get(key);
        if (f == null) {
            throw error(m.line(), what + " needs '" + key + "'");
        }
        return f;
    }

    private MapNode map(RecipeNode n, String what) {
        if (n instanceof MapNode m) {
            return m;
        }
        throw error(n.line(), what + " must be a map, not " + n.kind());
    }

    private ListNode list(Field f) {
        if (f.value() instanceof ListNode l) {
            return l;
        }
        throw error(f.value().line(), "'" + f.key() + "' must be a list, not " + f.value().kind());
    }

    private String string(Field f) {
        if (f.value() instanceof ScalarNode(String s, int line) && !s.isBlank()) {
            return s;
        }
        throw error(f.value().line(), "'" + f.key() + "' must be a non-empty string, not " + f.value().kind());
    }

    private RecipeException error(int line, String detail) {
        return new RecipeException(source, line, detail);
    }

    private static Set<String> orderedSet(String... values) {
        return java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(List.of(values)));
    }
}
