package io.emend.core.merge.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.merge.AdaMerging;
import io.emend.core.merge.LayerName;
import io.emend.core.merge.adamerging.CoefficientSearch;
import io.emend.core.merge.adamerging.LearnedCoefficients;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.MergeMethod;
import io.emend.core.merge.Parameter;
import io.emend.core.merge.ParameterValue;
import io.emend.core.merge.TensorParameters;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import io.emend.core.tokenizer.TokenIdScheme;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A recipe made concrete against the input models: every output tensor with its inputs and parameter values,
 * checked before anything is written (missing tensors, shape or architecture mismatches, missing parameter values
 * all fail here, naming the tensor). Inputs stay memory-mapped; the plan holds only names and shapes.
 *
 * <p>Tensors are ordered as mergekit plans them: those before the layers (embeddings, t = 0, from the first
 * slice's models), the layers slice by slice (renumbered consecutively, t running from 0 to 1 within each slice),
 * then those after the layers (final norm, head, t = 1, from the last slice's models).
 */
public final class MergePlan implements AutoCloseable {

    /** {@code <prefix>.layers.<n>.<rest>} (Llama family) or {@code <prefix>.h.<n>.<rest>} (GPT-2). */
    static final Pattern LAYER = LayerName.PATTERN;
    /** Tensors before the layers; everything else outside the layers comes after them. */
    private static final Pattern BEFORE_LAYERS = Pattern.compile(".*(embed|wte|wpe).*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MergeRecipe recipe;
    private final Map<String, Model> models;
    private final Model reference;
    private final List<PlannedTensor> tensors;
    private final int outputLayers;
    private final Optional<LearnedCoefficients> learned;

    /** An opened input model. */
    record Model(String ref, Path dir, TensorSource weights, JsonNode config, TreeMap<Integer, List<String>> layers) {
        int layerCount() {
            return layers.isEmpty() ? 0 : layers.lastKey() + 1;
        }
    }

    private MergePlan(MergeRecipe recipe, Map<String, Model> models, Model reference, List<PlannedTensor> tensors,
                      int outputLayers) {
        this(recipe, models, reference, tensors, outputLayers, Optional.empty());
    }

    private MergePlan(MergeRecipe recipe, Map<String, Model> models, Model reference, List<PlannedTensor> tensors,
                      int outputLayers, Optional<LearnedCoefficients> learned) {
        this.learned = learned;
        this.recipe = recipe;
        this.models = models;
        this.reference = reference;
        this.tensors = List.copyOf(tensors);
        this.outputLayers = outputLayers;
    }

    /**
     * Opens the recipe's models and plans every output tensor.
     *
     * @param resolve turns a model reference of the recipe into its directory
     * @throws IOException    when a model directory or weights file cannot be read
     * @throws MergeException when the models cannot be merged as asked
     */
    public static MergePlan create(MergeRecipe recipe, Function<String, Path> resolve) throws IOException {
        return create(recipe, resolve, CoefficientSearch.Listener.NONE);
    }

    /**
     * Opens the recipe's models and plans every output tensor; for {@code adamerging}, checks the plan with the
     * initial coefficients first, then runs the coefficient search and plans again with the learned ones.
     *
     * @param resolve turns a model reference (or AdaMerging's text reference) of the recipe into a path
     * @param search  told after each AdaMerging step; may throw to stop
     */
    public static MergePlan create(MergeRecipe recipe, Function<String, Path> resolve, CoefficientSearch.Listener search)
            throws IOException {
        MergePlan initial = initial(recipe, resolve);
        if (!(recipe.method() instanceof AdaMerging)) {
            return initial;
        }
        try {
            LearnedCoefficients learned = CoefficientSearch.run(recipe, resolve, search);
            MergePlan adapted = new Planner(learned.applyTo(recipe), initial.models, initial.reference).plan();
            return new MergePlan(adapted.recipe, initial.models, initial.reference, adapted.tensors,
                    adapted.outputLayers, Optional.of(learned));
        } catch (IOException | RuntimeException e) {
            initial.close();
            throw e;
        }
    }

    /**
     * Checks that the recipe can be merged from its models as {@link #create} would, without merging and without
     * AdaMerging's search (its plan is checked with the initial coefficients, as {@code create} does before
     * searching). It reads only what planning reads: each model's config.json, tokenizer files and safetensors
     * headers, so a directory whose safetensors files hold their header and nothing after it (sparse, at the real
     * size) is checked as well as the real one.
     *
     * @param resolve turns a model reference of the recipe into its directory
     * @throws IOException    when a model directory or weights file cannot be read
     * @throws MergeException when the models cannot be merged as asked
     */
    public static void check(MergeRecipe recipe, Function<String, Path> resolve) throws IOException {
        initial(recipe, resolve).close();
    }

    /** Opens the models, checks that they go together and plans the recipe as written; closes them on failure. */
    private static MergePlan initial(MergeRecipe recipe, Function<String, Path> resolve) throws IOException {
        Map<String, Model> opened = new LinkedHashMap<>();
        try {
            List<String> refs = new ArrayList<>();
            recipe.baseModel().ifPresent(refs::add);
            for (MergeRecipe.Slice s : recipe.slices()) {
                s.sources().forEach(src -> refs.add(src.model()));
            }
            for (String ref : refs) {
                if (!opened.containsKey(ref)) {
                    opened.put(ref, open(ref, resolve.apply(ref)));
                }
            }
            Model reference = opened.get(recipe.baseModel().orElse(recipe.slices().getFirst().sources().getFirst().model()));
            checkArchitectures(opened, reference);
            checkTokenizers(opened, reference);
            return new Planner(recipe, opened, reference).plan();
        } catch (IOException | RuntimeException e) {
            opened.values().forEach(m -> m.weights().close());
            throw e;
        }
    }

    private static Model open(String ref, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new MergeException("model '" + ref + "': " + dir + " is not a model directory");
        }
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new MergeException("model '" + ref + "' has no config.json in " + dir);
        }
        JsonNode config;
        try {
            config = JSON.readTree(configFile.toFile());
        } catch (IOException e) {
            throw new MalformedFileException(configFile, "not valid JSON: " + e.getMessage());
        }
        if (config == null || !config.isObject()) {
            throw new MalformedFileException(configFile, "must be a JSON object");
        }
        TensorSource weights = ShardedCheckpoint.open(dir, Optional.empty());
        TreeMap<Integer, List<String>> layers = new TreeMap<>();
        for (TensorInfo t : weights.tensors()) {
            Matcher m = LAYER.matcher(t.name());
            if (m.matches()) {
                layers.computeIfAbsent(Integer.parseInt(m.group(2)), k -> new ArrayList<>()).add(t.name());
            }
        }
        return new Model(ref, dir, weights, config, layers);
    }

    private static void checkArchitectures(Map<String, Model> models, Model reference) {
        for (Model m : models.values()) {
            for (String key : List.of("model_type", "architectures")) {
                JsonNode a = reference.config().get(key);
                JsonNode b = m.config().get(key);
                if (a != null && b != null && !a.equals(b)) {
                    throw new MergeException("models '" + reference.ref() + "' and '" + m.ref() + "' have different "
                            + key + " (" + a + " and " + b + "); only models of one architecture can be merged");
                }
            }
        }
    }

    /**
     * Every model that has a tokenizer must number tokens as the reference does, whose tokenizer the output takes:
     * otherwise row i of one model's embedding means another token than row i of the other's, and averaging them
     * yields a model whose tokenizer matches neither. Only what decides the ids is compared ({@link TokenIdScheme}).
     */
    private static void checkTokenizers(Map<String, Model> models, Model reference) throws IOException {
        for (Model m : models.values()) {
            if (m == reference) {
                continue;
            }
            Optional<String> difference = TokenIdScheme.difference(reference.dir(), reference.ref(), m.dir(), m.ref());
            if (difference.isPresent()) {
                throw new MergeException("models '" + reference.ref() + "' and '" + m.ref() + "' have different"
                        + " tokenizers (" + difference.get() + "); only models that number tokens alike can be merged");
            }
        }
    }

    /** Builds the tensor list; one instance per plan. */
    private static final class Planner {
        private final MergeRecipe recipe;
        private final MergeMethod method;
        private final Map<String, Model> models;
        private final Model reference;
        private final List<PlannedTensor> out = new ArrayList<>();

        Planner(MergeRecipe recipe, Map<String, Model> models, Model reference) {
            this.recipe = recipe;
            this.method = recipe.method();
            this.models = models;
            this.reference = reference;
        }

        MergePlan plan() {
            List<List<Source>> slices = slices();
            List<String> before = new ArrayList<>();
            List<String> after = new ArrayList<>();
            for (TensorInfo t : reference.weights().tensors()) {
                if (!LAYER.matcher(t.name()).matches()) {
                    (BEFORE_LAYERS.matcher(t.name()).matches() ? before : after).add(t.name());
                }
            }
            for (String name : before) {
                plan(name, slices.getFirst(), s -> name, 0.0);
            }
            int layer = 0;
            for (List<Source> slice : slices) {
                Source first = slice.getFirst();
                int length = first.range().length();
                for (int i = 0; i < length; i++) {
                    int offset = i;
                    int outLayer = layer + i;
                    double t = length > 1 ? i / (double) (length - 1) : 1.0;
                    List<String> names = first.model().layers().get(first.range().start() + i);
                    if (names == null) {
                        throw new MergeException("model '" + first.model().ref() + "' has no tensors for layer "
                                + (first.range().start() + i));
                    }
                    for (String name : names) {
                        Matcher m = LAYER.matcher(name);
                        m.matches();
                        String prefix = m.group(1);
                        String suffix = m.group(3);
                        plan(prefix + outLayer + suffix, slice,
                                s -> prefix + (s.range().start() + offset) + suffix, t);
                    }
                }
                layer += length;
            }
            for (String name : after) {
                plan(name, slices.getLast(), s -> name, 1.0);
            }
            return new MergePlan(recipe, models, reference, out, layer);
        }

        /** A recipe source bound to its opened model and a concrete layer range. */
        private record Source(Model model, MergeRecipe.LayerRange range, Map<String, ParameterValue> parameters) {
        }

        private List<List<Source>> slices() {
            List<List<Source>> result = new ArrayList<>();
            for (MergeRecipe.Slice slice : recipe.slices()) {
                List<Source> sources = new ArrayList<>();
                for (MergeRecipe.SliceSource s : slice.sources()) {
                    Model m = models.get(s.model());
                    MergeRecipe.LayerRange range = s.layerRange().orElse(new MergeRecipe.LayerRange(0, m.layerCount()));
                    if (range.end() > m.layerCount()) {
                        throw new MergeException("model '" + m.ref() + "' has " + m.layerCount() + " layers; layer_range ["
                                + range.start() + ", " + range.end() + "] runs past them");
                    }
                    sources.add(new Source(m, range, s.parameters()));
                }
                if (!recipe.sliced() && method.needsBase()) {
                    Model base = models.get(recipe.baseModel().orElseThrow());
                    if (sources.stream().noneMatch(s -> s.model() == base)) {
                        sources.add(new Source(base, new MergeRecipe.LayerRange(0, base.layerCount()), Map.of()));
                    }
                }
                for (Source s : sources) {
                    if (s.range().length() != sources.getFirst().range().length()) {
                        throw new MergeException("models '" + sources.getFirst().model().ref() + "' and '" + s.model().ref()
                                + "' have " + sources.getFirst().range().length() + " and " + s.range().length()
                                + " layers; the models of a merge (or of a slice) must have the same depth");
                    }
                }
                result.add(sources);
            }
            return result;
        }

        private void plan(String outName, List<Source> slice, Function<Source, String> inputName, double t) {
            Optional<Model> base = method.needsBase() ? recipe.baseModel().map(models::get) : Optional.empty();
            PlannedTensor.Input baseInput = null;
            List<PlannedTensor.Input> inputs = new ArrayList<>();
            List<TensorParameters> params = new ArrayList<>();
            TensorInfo shapeOf = null;
            String shapeFrom = null;
            for (Source s : slice) {
                String name = inputName.apply(s);
                TensorInfo info = s.model().weights().find(name).orElseThrow(() -> new MergeException("tensor '" + name
                        + "': model '" + s.model().ref() + "' has no such tensor"));
                if (shapeOf == null) {
                    shapeOf = info;
                    shapeFrom = s.model().ref();
                } else if (!Arrays.equals(shapeOf.shape(), info.shape())) {
                    throw new MergeException("tensor '" + name + "': model '" + s.model().ref() + "' has shape "
                            + Arrays.toString(info.shape()) + " but model '" + shapeFrom + "' has "
                            + Arrays.toString(shapeOf.shape()));
                }
                PlannedTensor.Input input = new PlannedTensor.Input(s.model().ref(), s.model().weights(), info);
                if (base.isPresent() && s.model() == base.get() && baseInput == null) {
                    baseInput = input;
                } else {
                    inputs.add(input);
                    params.add(modelParameters(outName, t, s));
                }
            }
            if (base.isPresent() && baseInput == null) {
                throw new MergeException("tensor '" + outName + "': base_model '" + base.get().ref()
                        + "' is not among the sources of its slice");
            }
            TensorInfo reference = baseInput != null ? baseInput.tensor() : shapeOf;
            DType dtype = recipe.dtype().orElse(reference.dtype());
            out.add(new PlannedTensor(new TensorInfo(outName, dtype, reference.shape()), t,
                    Optional.ofNullable(baseInput), inputs, params, globalParameters(outName, t)));
        }

        private TensorParameters globalParameters(String tensor, double t) {
            Map<String, Double> values = new HashMap<>();
            for (Parameter p : method.parameters()) {
                // settings of the whole merge (AdaMerging's steps, text) are read from the recipe, not per tensor
                if (p.scope() == Parameter.Scope.GLOBAL && p.perTensor()) {
                    values.put(p.name(), value(p, tensor, t, List.of(recipe.parameters()), "the merge"));
                }
            }
            return TensorParameters.of(values);
        }

        private TensorParameters modelParameters(String tensor, double t, Source s) {
            Map<String, Double> values = new HashMap<>();
            for (Parameter p : method.parameters()) {
                if (p.scope() == Parameter.Scope.PER_MODEL) {
                    values.put(p.name(), value(p, tensor, t, List.of(s.parameters(), recipe.parameters()),
                            "model '" + s.model().ref() + "'"));
                }
            }
            return TensorParameters.of(values);
        }

        /** The first level (model's own, then top-level) whose value applies to the tensor, else the default. */
        private double value(Parameter p, String tensor, double t, List<Map<String, ParameterValue>> levels, String whose) {
            for (Map<String, ParameterValue> level : levels) {
                ParameterValue v = level.get(p.name());
                if (v != null) {
                    OptionalDouble d = v.at(tensor, t);
                    if (d.isPresent()) {
                        return d.getAsDouble();
                    }
                }
            }
            if (p.defaultValue().isPresent()) {
                return p.defaultValue().getAsDouble();
            }
            throw new MergeException("tensor '" + tensor + "': parameter '" + p.name() + "' of " + whose
                    + " has no value (no filter matches it and " + method.name() + " has no default)");
        }
    }

    public MergeRecipe recipe() {
        return recipe;
    }

    /** What AdaMerging learned, for an {@code adamerging} recipe; its values are already in the tensors' weights. */
    public Optional<LearnedCoefficients> learned() {
        return learned;
    }

    /** Output tensors in write order. */
    public List<PlannedTensor> tensors() {
        return tensors;
    }

    /** Layers of the output model. */
    public int outputLayers() {
        return outputLayers;
    }

    /** The model whose config.json and tokenizer the output takes: the base, else the first model. */
    public Path referenceDirectory() {
        return reference.dir();
    }

    /** The reference's config.json, with the layer count and dtype of the output. */
    public JsonNode outputConfig() {
        com.fasterxml.jackson.databind.node.ObjectNode config = reference.config().deepCopy();
        for (String key : List.of("num_hidden_layers", "n_layer")) {
            if (config.has(key)) {
                config.put(key, outputLayers);
            }
        }
        recipe.dtype().ifPresent(d -> config.put("torch_dtype", switch (d) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        }));
        return config;
    }

    /** Unmaps every input. */
    @Override
    public void close() {
        models.values().forEach(m -> m.weights().close());
    }
}
