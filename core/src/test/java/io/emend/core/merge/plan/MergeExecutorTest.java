package io.emend.core.merge.plan;

import io.emend.core.format.Fixtures;
import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.format.safetensors.ShardIndex;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.merge.MergeCatalog;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.MergeMethod;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.TensorParameters;
import io.emend.core.merge.TensorSink;
import io.emend.core.merge.TensorView;
import io.emend.core.merge.recipe.RecipeParser;
import io.emend.core.model.LlamaConfig;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.HalfFloat;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MergeExecutorTest {

    private static final int LAYERS = 3;

    @TempDir
    Path tmp;
    private Map<String, float[]> base;
    private Map<String, float[]> a;
    private Map<String, float[]> b;

    @BeforeEach
    void models() throws IOException {
        base = TinyModels.random(LAYERS, 1);
        a = TinyModels.random(LAYERS, 2);
        b = TinyModels.random(LAYERS, 3);
        TinyModels.write(tmp.resolve("base"), base, DType.F32, LAYERS);
        TinyModels.write(tmp.resolve("a"), a, DType.F32, LAYERS);
        TinyModels.write(tmp.resolve("b"), b, DType.F32, LAYERS);
    }

    private MergeResult merge(String yaml, String out, MergeExecutor.Options options) throws IOException {
        Path recipe = tmp.resolve(out + ".yml");
        Files.writeString(recipe, yaml);
        try (MergePlan plan = MergePlan.create(RecipeParser.read(recipe), ref -> tmp.resolve(ref))) {
            return MergeExecutor.run(plan, tmp.resolve(out), options, MergeProgress.NONE);
        }
    }

    private MergeResult merge(String yaml, String out) throws IOException {
        return merge(yaml, out, MergeExecutor.Options.defaults());
    }

    /** The method applied directly to heap copies of one tensor: the reference the streamed merge must equal. */
    private static float[] expected(String method, float[] baseValues, List<float[]> models,
                                    List<Map<String, Double>> perModel, Map<String, Double> global) {
        MergeMethod m = MergeCatalog.STANDARD.find(method);
        List<TensorView> views = new ArrayList<>();
        for (float[] v : models) {
            views.add(TensorView.of(v, "m"));
        }
        float[] out = new float[models.getFirst().length];
        m.merge(new TensorMerge("model.layers.1.mlp.up_proj.weight",
                Optional.ofNullable(baseValues).map(x -> TensorView.of(x, "base")), views,
                perModel.stream().map(TensorParameters::of).toList(), TensorParameters.of(global),
                io.emend.core.merge.recipe.MergeRecipe.DEFAULT_SEED, TensorSink.of(out), TensorMerge.DEFAULT_CHUNK));
        return out;
    }

    private float[] read(Path dir, String tensor) throws IOException {
        try (TensorSource s = ShardedCheckpoint.open(dir, Optional.empty())) {
            return s.floats(tensor);
        }
    }

    @Test
    void everyMethodRunsEndToEndAndEqualsTheMethodOnTheSameTensors() throws IOException {
        String t = "model.layers.1.mlp.up_proj.weight";
        Map<String, String> recipes = Map.of(
                "linear", "models: [{model: a, parameters: {weight: 0.3}}, {model: b, parameters: {weight: 0.7}}]",
                "task_arithmetic", "base_model: base\nparameters: {lambda: 0.8}\n"
                        + "models: [{model: a, parameters: {weight: 0.5}}, {model: b, parameters: {weight: 1.0}}]",
                "ties", "base_model: base\nmodels: [{model: base}, {model: a, parameters: {weight: 1, density: 0.5}},"
                        + " {model: b, parameters: {weight: 1, density: 0.3}}]",
                "dare_linear", "base_model: base\nmodels: [{model: a, parameters: {weight: 1, density: 0.5}},"
                        + " {model: b, parameters: {weight: 1, density: 0.6}}]",
                "dare_ties", "base_model: base\nparameters: {weight: 1, density: 0.7}\nmodels: [{model: a}, {model: b}]",
                "slerp", "base_model: base\nparameters: {t: 0.3}\nmodels: [{model: base}, {model: a}]");
        Map<String, float[]> expected = Map.of(
                "linear", expected("linear", null, List.of(a.get(t), b.get(t)),
                        List.of(Map.of("weight", 0.3), Map.of("weight", 0.7)), Map.of("normalize", 1.0)),
                "task_arithmetic", expected("task_arithmetic", base.get(t), List.of(a.get(t), b.get(t)),
                        List.of(Map.of("weight", 0.5), Map.of("weight", 1.0)), Map.of("lambda", 0.8, "normalize", 0.0)),
                "ties", expected("ties", base.get(t), List.of(a.get(t), b.get(t)),
                        List.of(Map.of("weight", 1.0, "density", 0.5), Map.of("weight", 1.0, "density", 0.3)),
                        Map.of("lambda", 1.0, "normalize", 1.0)),
                "dare_linear", expected("dare_linear", base.get(t), List.of(a.get(t), b.get(t)),
                        List.of(Map.of("weight", 1.0, "density", 0.5), Map.of("weight", 1.0, "density", 0.6)),
                        Map.of("lambda", 1.0, "normalize", 0.0, "rescale", 1.0)),
                "dare_ties", expected("dare_ties", base.get(t), List.of(a.get(t), b.get(t)),
                        List.of(Map.of("weight", 1.0, "density", 0.7), Map.of("weight", 1.0, "density", 0.7)),
                        Map.of("lambda", 1.0, "normalize", 1.0, "rescale", 1.0)),
                "slerp", expected("slerp", base.get(t), List.of(a.get(t)), List.of(Map.of()), Map.of("t", 0.3)));
        // adamerging needs a model the graph can run and a text: CoefficientSearchTest runs it end to end
        for (String method : MergeCatalog.STANDARD.names().stream().filter(m -> !m.equals("adamerging")).toList()) {
            MergeResult r = merge("merge_method: " + method + "\n" + recipes.get(method) + "\n", method,
                    new MergeExecutor.Options(2_000, TensorMerge.DEFAULT_CHUNK));
            assertEquals(TinyModels.shapes(LAYERS).size(), r.tensors());
            assertTrue(r.files().contains(ShardIndex.FILE_NAME), method + ": small shards force an index");
            assertTrue(r.files().containsAll(List.of("config.json", "tokenizer.json", "merge_recipe.yml")), r.files().toString());
            assertArrayEquals(expected.get(method), read(r.directory(), t), 0f, method);
            assertTrue(HfConfig.read(r.directory().resolve("config.json")) instanceof LlamaConfig);
            try (TensorSource s = ShardedCheckpoint.open(r.directory(), Optional.empty())) {
                assertEquals(TinyModels.shapes(LAYERS).keySet(),
                        new java.util.LinkedHashSet<>(s.tensors().stream().map(TensorInfo::name).toList()));
            }
        }
        assertEquals("{\"model\": {\"type\": \"BPE\", \"vocab\": {}}, \"from\": \"base\"}",
                Files.readString(tmp.resolve("ties/tokenizer.json")), "the tokenizer comes from the base");
    }

    /**
     * Linear, task arithmetic and DARE merge large tensors in ranges on several threads; the bits must not depend on
     * it (DARE's draws follow the element's index in the whole tensor, not its range).
     * The models here have one tensor of 4·{@link MergeExecutor#MIN_RANGE} + 3 elements (ranges end mid-chunk and
     * off every vector width) and are F16, so each range also narrows its own part of the output.
     */
    @Test
    void rangesOnSeveralThreadsGiveTheSameBitsAsOneThread() throws IOException {
        int rows = (int) (4 * MergeExecutor.MIN_RANGE + 3);
        for (String name : List.of("wbase", "wa", "wb")) {
            Map<String, float[]> values = new java.util.LinkedHashMap<>();
            java.util.Random r = new java.util.Random(name.hashCode());
            float[] big = new float[rows];
            for (int i = 0; i < big.length; i++) {
                big[i] = (float) r.nextGaussian();
            }
            values.put("model.norm.weight", big);
            Path dir = Files.createDirectories(tmp.resolve(name));
            Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\"}");
            try (var w = io.emend.core.format.safetensors.CheckpointWriter.create(dir,
                    List.of(new TensorInfo("model.norm.weight", DType.F16, new long[] {rows})), Map.of(), Long.MAX_VALUE)) {
                w.write("model.norm.weight", big);
                w.commit();
            }
        }
        for (String recipe : List.of(
                "merge_method: linear\nmodels: [{model: wa, parameters: {weight: 0.3}}, {model: wb, parameters: {weight: 0.9}}]\n",
                "merge_method: task_arithmetic\nbase_model: wbase\nparameters: {lambda: 0.7}\n"
                        + "models: [{model: wa, parameters: {weight: 0.5}}, {model: wb, parameters: {weight: 1.5}}]\n",
                "merge_method: dare_linear\nbase_model: wbase\nparameters: {density: 0.4}\n"
                        + "models: [{model: wa, parameters: {weight: 0.5}}, {model: wb, parameters: {weight: 1.5}}]\n",
                "merge_method: dare_ties\nbase_model: wbase\nparameters: {weight: 1, density: 0.6}\n"
                        + "models: [{model: wa}, {model: wb}]\n")) {
            String method = recipe.substring(14, recipe.indexOf('\n'));
            float[] one = read(merge(recipe, method + "-1", new MergeExecutor.Options(Long.MAX_VALUE, 1000, 1)).directory(),
                    "model.norm.weight");
            float[] four = read(merge(recipe, method + "-4", new MergeExecutor.Options(Long.MAX_VALUE, 1000, 4)).directory(),
                    "model.norm.weight");
            assertArrayEquals(one, four, 0f, method);
        }
    }

    @Test
    void mergingAModelWithItselfReturnsItBitForBit() throws IOException {
        MergeResult r = merge("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 0.3}
                  - model: a
                    parameters: {weight: 0.45}
                """, "self");
        for (Map.Entry<String, float[]> e : a.entrySet()) {
            assertArrayEquals(e.getValue(), read(r.directory(), e.getKey()), 0f, e.getKey());
        }
    }

    @Test
    void outputDtypeIsConfigurable() throws IOException {
        MergeResult r = merge("merge_method: linear\ndtype: bfloat16\nmodels: [{model: a}, {model: b}]\n", "bf16");
        String t = "lm_head.weight";
        try (TensorSource s = ShardedCheckpoint.open(r.directory(), Optional.empty())) {
            assertEquals(DType.BF16, s.find(t).orElseThrow().dtype());
            float[] got = s.floats(t);
            for (int i = 0; i < got.length; i++) {
                float f32 = (float) ((a.get(t)[i] + (double) b.get(t)[i]) / 2);
                assertEquals(HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(f32)), got[i], 0f);
            }
        }
        assertTrue(Files.readString(r.directory().resolve("config.json")).contains("\"torch_dtype\" : \"bfloat16\""));
    }

    @Test
    void gradientsAndFiltersVaryParametersOverLayersAndTensors() throws IOException {
        // t: self_attn tensors go 0 → 1 over the three layers (0, 0.5, 1); mlp tensors are fixed at 1; others 0.
        MergeResult r = merge("""
                merge_method: slerp
                base_model: base
                models: [{model: base}, {model: a}]
                parameters:
                  t:
                    - filter: self_attn
                      value: [0, 1]
                    - filter: mlp
                      value: 1
                    - value: 0
                """, "gradient");
        String q = "model.layers.%d.self_attn.q_proj.weight";
        assertArrayEquals(base.get(q.formatted(0)), read(r.directory(), q.formatted(0)), 0f, "t = 0 at the first layer");
        assertArrayEquals(a.get(q.formatted(2)), read(r.directory(), q.formatted(2)), 0f, "t = 1 at the last layer");
        assertArrayEquals(expected("slerp", base.get(q.formatted(1)), List.of(a.get(q.formatted(1))), List.of(Map.of()),
                Map.of("t", 0.5)), read(r.directory(), q.formatted(1)), 0f, "t = 0.5 halfway");
        assertArrayEquals(a.get("model.layers.0.mlp.down_proj.weight"),
                read(r.directory(), "model.layers.0.mlp.down_proj.weight"), 0f);
        assertArrayEquals(base.get("lm_head.weight"), read(r.directory(), "lm_head.weight"), 0f);
    }

    @Test
    void slicesStackLayerRangesAndRenumberThem() throws IOException {
        MergeResult r = merge("""
                merge_method: linear
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 2]
                  - sources:
                      - model: a
                        layer_range: [1, 3]
                        parameters: {weight: 1}
                      - model: b
                        layer_range: [0, 2]
                        parameters: {weight: 3}
                """, "sliced");
        String up = "model.layers.%d.mlp.up_proj.weight";
        assertArrayEquals(a.get(up.formatted(0)), read(r.directory(), up.formatted(0)), 0f);
        assertArrayEquals(a.get(up.formatted(1)), read(r.directory(), up.formatted(1)), 0f);
        // output layer 3 = second slice, offset 1: a's layer 2 and b's layer 1
        assertArrayEquals(expected("linear", null, List.of(a.get(up.formatted(2)), b.get(up.formatted(1))),
                List.of(Map.of("weight", 1.0), Map.of("weight", 3.0)), Map.of("normalize", 1.0)),
                read(r.directory(), up.formatted(3)), 0f);
        LlamaConfig config = (LlamaConfig) HfConfig.read(r.directory().resolve("config.json"));
        assertEquals(4, config.numLayers());
        try (TensorSource s = ShardedCheckpoint.open(r.directory(), Optional.empty())) {
            assertEquals(TinyModels.shapes(4).size(), s.tensors().size());
            assertTrue(s.find("model.layers.3.self_attn.o_proj.weight").isPresent());
        }
    }

    @Test
    void mismatchedShapesAreRejectedNamingTheTensorAndNothingIsWritten() throws IOException {
        Map<String, float[]> wide = TinyModels.random(LAYERS, 4);
        Path dir = tmp.resolve("wide");
        TinyModels.write(dir, wide, DType.F32, LAYERS);
        // rewrite one tensor with another shape
        Files.delete(dir.resolve("model.safetensors"));
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, long[]> e : TinyModels.shapes(LAYERS).entrySet()) {
            long[] shape = e.getKey().equals("model.layers.2.mlp.up_proj.weight") ? new long[] {TinyModels.HIDDEN, TinyModels.MLP} : e.getValue();
            infos.add(new TensorInfo(e.getKey(), DType.F32, shape));
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve("model.safetensors"), infos, Map.of())) {
            for (TensorInfo t : infos) {
                w.write(t.name(), wide.get(t.name()));
            }
            w.commit();
        }
        MergeException e = assertThrows(MergeException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: wide}]\n", "bad"));
        assertEquals("tensor 'model.layers.2.mlp.up_proj.weight': model 'wide' has shape [8, 12] but model 'a' has [12, 8]",
                e.getMessage());
        assertFalse(Files.exists(tmp.resolve("bad")));
    }

    @Test
    void missingTensorsDepthsAndArchitecturesAreRejected() throws IOException {
        Map<String, float[]> missing = TinyModels.random(LAYERS, 5);
        missing.remove("model.norm.weight");
        TinyModels.write(tmp.resolve("missing"), missing, DType.F32, LAYERS);
        MergeException e = assertThrows(MergeException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: missing}]\n", "m1"));
        assertEquals("tensor 'model.norm.weight': model 'missing' has no such tensor", e.getMessage());

        TinyModels.write(tmp.resolve("shallow"), TinyModels.random(2, 6), DType.F32, 2);
        e = assertThrows(MergeException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: shallow}]\n", "m2"));
        assertTrue(e.getMessage().contains("have 3 and 2 layers"), e.getMessage());

        Path gpt = TinyModels.write(tmp.resolve("gpt"), TinyModels.random(LAYERS, 7), DType.F32, LAYERS);
        Files.writeString(gpt.resolve("config.json"), "{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"]}");
        e = assertThrows(MergeException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: gpt}]\n", "m3"));
        assertTrue(e.getMessage().startsWith("models 'a' and 'gpt' have different model_type"), e.getMessage());
        e = assertThrows(MergeException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: nowhere}]\n", "m4"));
        assertTrue(e.getMessage().contains("'nowhere'") && e.getMessage().contains("not a model directory"), e.getMessage());
    }

    @Test
    void nonFiniteInputsFailTheMergeAndLeaveNothingBehind() throws IOException {
        Map<String, float[]> nan = TinyModels.random(LAYERS, 8);
        nan.get("model.layers.1.self_attn.v_proj.weight")[5] = Float.POSITIVE_INFINITY;
        TinyModels.write(tmp.resolve("nan"), nan, DType.F32, LAYERS);
        MergeException e = assertThrows(MergeException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: nan}]\n", "out"));
        assertEquals("tensor 'model.layers.1.self_attn.v_proj.weight' of model 'nan' has a non-finite value (Infinity)"
                + " at element 5", e.getMessage());
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".out") || p.getFileName().toString().equals("out")));
        }
    }

    /**
     * The output is written on a thread of its own while the next tensor is merged; a write that fails there must
     * fail the merge with its error, end that thread and leave neither the model nor its hidden work directory.
     * The write is made to fail for real: after the first tensor is written the work directory is deleted, so the
     * first shard's rename (small shards: one is finished every few tensors) finds no file.
     */
    @Test
    void aFailedWriteFailsTheMergeAndLeavesNothingBehind() throws IOException {
        Path recipe = tmp.resolve("out.yml");
        Files.writeString(recipe, "merge_method: linear\nmodels: [{model: a}, {model: b}]\n");
        List<String> reported = new ArrayList<>();
        MergeProgress removeWorkDirectory = (done, total, name) -> {
            reported.add(name);
            if (done == 1) {
                try (Stream<Path> s = Files.list(tmp)) {
                    Path work = s.filter(p -> p.getFileName().toString().startsWith(".out.partial-")).findFirst().orElseThrow();
                    try (Stream<Path> files = Files.walk(work)) {
                        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.delete(p);
                        }
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        try (MergePlan plan = MergePlan.create(RecipeParser.read(recipe), ref -> tmp.resolve(ref))) {
            int tensors = plan.tensors().size();
            assertThrows(java.nio.file.NoSuchFileException.class, () -> MergeExecutor.run(plan, tmp.resolve("out"),
                    new MergeExecutor.Options(2_000, TensorMerge.DEFAULT_CHUNK), removeWorkDirectory));
            assertTrue(reported.size() < tensors, "the merge stopped at the failed write: " + reported);
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".out") || p.getFileName().toString().equals("out")));
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("merge-writer")),
                "the writer thread has ended");
    }

    @Test
    void refusesToWriteIntoADirectoryWithFiles() throws IOException {
        Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(tmp.resolve("taken/keep.txt"), "mine");
        assertThrows(DirectoryNotEmptyException.class,
                () -> merge("merge_method: linear\nmodels: [{model: a}, {model: b}]\n", "taken"));
        assertEquals("mine", Files.readString(tmp.resolve("taken/keep.txt")));
    }

    @Test
    void mergesTheTinyLlamaFixtureWithAPerturbedCopy() throws IOException {
        Path fixture = Fixtures.model("tiny-llama");
        Path perturbed = tmp.resolve("perturbed");
        Files.createDirectories(perturbed);
        Files.copy(fixture.resolve("config.json"), perturbed.resolve("config.json"));
        Random r = new Random(11);
        Map<String, float[]> original = new java.util.HashMap<>();
        Map<String, float[]> changed = new java.util.HashMap<>();
        try (TensorSource s = ShardedCheckpoint.open(fixture, Optional.of("model.safetensors"));
             SafetensorsWriter w = SafetensorsWriter.create(perturbed.resolve("model.safetensors"), s.tensors(), Map.of())) {
            for (TensorInfo t : s.tensors()) {
                float[] v = s.floats(t.name());
                original.put(t.name(), v);
                float[] p = v.clone();
                for (int i = 0; i < p.length; i++) {
                    p[i] += (float) (0.01 * r.nextGaussian());
                }
                changed.put(t.name(), p);
                w.write(t.name(), p);
            }
            w.commit();
        }
        Path recipe = tmp.resolve("fixture.yml");
        Files.writeString(recipe, "merge_method: task_arithmetic\nbase_model: " + fixture + "\nparameters: {lambda: 0.5}\n"
                + "models: [{model: perturbed, parameters: {weight: 1}}]\ntokenizer_source: base\n");
        MergeResult result;
        try (MergePlan plan = MergePlan.create(RecipeParser.read(recipe),
                ref -> recipe.getParent().resolve(ref))) {
            result = MergeExecutor.run(plan, tmp.resolve("fixture-merged"), MergeExecutor.Options.defaults(),
                    MergeProgress.NONE);
        }
        LlamaConfig config = (LlamaConfig) HfConfig.read(result.directory().resolve("config.json"));
        assertEquals(2, config.numLayers());
        assertEquals(Files.readString(fixture.resolve("tokenizer.json")),
                Files.readString(result.directory().resolve("tokenizer.json")));
        try (TensorSource s = ShardedCheckpoint.open(result.directory(), Optional.empty())) {
            assertEquals(original.size(), s.tensors().size());
            for (TensorInfo t : s.tensors()) {
                float[] b = original.get(t.name());
                float[] p = changed.get(t.name());
                float[] want = new float[b.length];
                for (int i = 0; i < b.length; i++) {
                    // the method's own arithmetic: F32 delta, then base + λ·δ in double, rounded once
                    want[i] = (float) (b[i] + 0.5 * (p[i] - b[i]));
                }
                assertArrayEquals(want, s.floats(t.name()), 0f, t.name());
            }
        }
    }
}
