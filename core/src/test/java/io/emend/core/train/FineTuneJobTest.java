package io.emend.core.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.format.Fixtures;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.train.lora.LoraTargets;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fine-tunes of stories260k (a real pretrained model) on a slice of WikiText, a domain it has never seen. */
class FineTuneJobTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path MODEL = Fixtures.model("stories260k");
    private static Tokenizer tokenizer;
    private static Transformer model;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(MODEL);
        model = Transformer.open(MODEL, Optional.empty());
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    /** {"text"} lines of WikiText: {@code count} lines of at least 60 characters, from the {@code skip}-th on. */
    static Path wikiJsonl(Path dir, String name, int skip, int count) throws IOException {
        List<String> lines = Files.readAllLines(Fixtures.root().resolve("text/wikitext-2-test.txt")).stream()
                .map(String::strip).filter(l -> l.length() >= 60 && !l.startsWith("=")).skip(skip).limit(count)
                .toList();
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(JSON.writeValueAsString(Map.of("text", l.substring(0, Math.min(l.length(), 200))))).append('\n');
        }
        return Files.writeString(dir.resolve(name), sb.toString());
    }

    static FineTuneConfig config(Method method, int steps, double lr) {
        return new FineTuneConfig(method, 8, 16, List.of(), lr, 0.0, 2, steps, 0, 2, 1, 32, 1.0, 42, 0.15, 0,
                FineTuneConfig.Forgetting.none());
    }

    private static FineTuneConfig withAccumulation(FineTuneConfig c, int accumulation) {
        return new FineTuneConfig(c.method(), c.rank(), c.alpha(), c.targetModules(), c.learningRate(), c.weightDecay(),
                c.warmupSteps(), c.steps(), c.epochs(), c.batchSize(), accumulation, c.seqLen(), c.maxGradNorm(),
                c.seed(), c.heldOutFraction(), c.checkpointEvery(), c.forgetting());
    }

    @Test
    void loraOnNewTextLowersHeldOutLoss() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 40);
        FineTuneConfig c = config(Method.LORA, 12, 2e-2);
        TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
        List<StepReport> reports = new ArrayList<>();
        try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
            FineTuneMetrics m = job.run(Optional.empty(), reports::add);
            assertEquals(12, m.steps());
            assertEquals(12, reports.size());
            // a ~0.05 nat drop is far above run-to-run noise (none: the run is deterministic) and
            // was ~0.5 nat when written; a broken gradient or optimizer leaves the loss flat or raises it
            assertTrue(m.heldOutLossAfter() < m.heldOutLossBefore() - 0.05,
                    "held-out loss " + m.heldOutLossBefore() + " -> " + m.heldOutLossAfter());
            assertTrue(m.heldOutPerplexityAfter() < m.heldOutPerplexityBefore());
            assertTrue(m.tokensTrained() > 0 && m.tokensPerSecond() > 0);
        }
    }

    @Test
    void gradientAccumulationEqualsOneBigBatch() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 24);
        FineTuneConfig big = config(Method.LORA, 3, 1e-2).withShape(4, 32, 1e-2, 2);
        FineTuneConfig accumulated = withAccumulation(config(Method.LORA, 3, 1e-2).withShape(2, 32, 1e-2, 2), 2);
        TrainingData d = TrainingData.load(tokenizer, data, List.of(), big);
        List<StepReport> once = new ArrayList<>();
        List<StepReport> twice = new ArrayList<>();
        trainedValues(d, big, once::add);
        trainedValues(d, accumulated, twice::add);
        for (int i = 0; i < 3; i++) {
            // the same 4 rows per step, the loss normalized by all target tokens of the step: equal up to the float
            // summation order (~1e-6 relative). The gradient norm is compared because Adam would hide a wrong scale.
            assertEquals(once.get(i).loss(), twice.get(i).loss(), 1e-5 * once.get(i).loss(), "loss, step " + i);
            assertEquals(once.get(i).gradientNorm(), twice.get(i).gradientNorm(), 1e-4 * once.get(i).gradientNorm(),
                    "gradient norm, step " + i);
        }
        // weights are not compared element by element: Adam divides by √v, so an entry whose gradient is rounding
        // noise moves by up to lr either way in each run
        List<StepReport> half = new ArrayList<>();
        trainedValues(d, config(Method.LORA, 3, 1e-2).withShape(2, 32, 1e-2, 2), half::add);
        double norm = once.get(0).gradientNorm();
        assertTrue(Math.abs(half.get(0).gradientNorm() - norm) > 1e-3 * norm,
                "half the rows without accumulation give another gradient, so the comparison above can fail");
    }

    @Test
    void stepZeroIsTheBaseModel() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 20);
        for (Method method : Method.values()) {
            FineTuneConfig c = config(method, 2, 1e-3);
            TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
            try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
                // identical up to float rounding of W + 0 (DoRA recomputes W·‖W‖/‖W‖)
                assertEquals(job.evaluate(d.heldOut(), false), job.evaluate(d.heldOut(), true), 1e-5, method.name());
            }
        }
    }

    /**
     * Garbage collections while training change nothing: the weights equal an undisturbed run's, bit for bit. Backward
     * runs after the forward's scope is closed; an array it reads whose memory Java owned would be freed by a GC in
     * between, and that step's gradients read freed blocks. Before the graph's constants became PyTorch's, this test
     * failed 3 of 3 times with a non-finite gradient (at steps 1 to 4), the error that made the PEFT layout test flaky.
     */
    @Test
    void garbageCollectionsDuringTrainingLeaveTheWeightsUnchanged() throws Exception {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 20);
        FineTuneConfig c = config(Method.LORA, 6, 1e-2);
        Map<String, float[]> undisturbed = trainedValues(data, c, false);
        Map<String, float[]> collected = trainedValues(data, c, true);
        for (String k : undisturbed.keySet()) {
            // same ops in the same order on the same thread count: bitwise equal
            assertArrayEquals(undisturbed.get(k), collected.get(k), 0f, k);
        }
    }

    /** The trained values; with {@code collecting}, a thread runs full GCs back to back throughout. */
    private static Map<String, float[]> trainedValues(Path data, FineTuneConfig c, boolean collecting)
            throws IOException, InterruptedException {
        AtomicBoolean done = new AtomicBoolean();
        Thread collector = new Thread(() -> {
            while (!done.get()) {
                System.gc();
                LockSupport.parkNanos(1_000_000);
            }
        });
        if (collecting) {
            collector.start();
        }
        try (FineTuneJob job = new FineTuneJob(model, TrainingData.load(tokenizer, data, List.of(), c), c,
                List.of())) {
            job.run(Optional.empty(), r -> { });
            return job.parameters().values();
        } finally {
            done.set(true);
            if (collecting) {
                collector.join();
            }
        }
    }

    @Test
    void resumingFromACheckpointReachesTheSameWeights() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 16);
        // plain LoRA, LoRA with dropout (masks drawn per step must repeat after a resume) and DoRA
        List<FineTuneConfig> configs = List.of(config(Method.LORA, 4, 5e-3), config(Method.LORA, 4, 5e-3)
                .withLoraDropout(0.2), config(Method.DORA, 4, 5e-3));
        for (FineTuneConfig base : configs) {
            Method method = base.method();
            String label = method + "-dropout-" + base.loraDropout();
            FineTuneConfig c = withAccumulation(base, 2).withCheckpointEvery(2);
            TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
            Map<String, float[]> straight;
            try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
                job.run(Optional.empty(), r -> { });
                straight = job.parameters().values();
            }
            Path checkpoints = dir.resolve("ckpt-" + label);
            try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
                job.run(Optional.of(checkpoints), r -> { }, 2); // killed after step 2
            }
            assertTrue(Files.isDirectory(checkpoints.resolve("checkpoint-000002")));
            Map<String, float[]> resumed;
            try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
                assertEquals(Optional.of(2), job.resumeFrom(checkpoints));
                job.run(Optional.of(checkpoints), r -> { });
                assertEquals(4, job.step());
                resumed = job.parameters().values();
            }
            assertEquals(straight.keySet(), resumed.keySet());
            for (String k : straight.keySet()) {
                // same ops in the same order on the same thread count: bitwise equal
                assertArrayEquals(straight.get(k), resumed.get(k), 0f, label + " " + k);
            }
            FineTuneConfig other = base.withShape(2, 32, 1e-3, 2).withCheckpointEvery(2);
            try (FineTuneJob job = new FineTuneJob(model, TrainingData.load(tokenizer, data, List.of(), other), other,
                    List.of())) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> job.resumeFrom(checkpoints));
                assertTrue(e.getMessage().contains("other settings"), e.getMessage());
            }
        }
    }

    @Test
    void loraDropoutActsInTrainingOnlyAndIsSeeded() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 20);
        FineTuneConfig plain = config(Method.LORA, 3, 1e-2);
        FineTuneConfig dropped = plain.withLoraDropout(0.3);
        TrainingData d = TrainingData.load(tokenizer, data, List.of(), plain);
        Map<String, float[]> without = trainedValues(d, plain);
        Map<String, float[]> with = trainedValues(d, dropped);
        assertArrayEquals(flatten(with), flatten(trainedValues(d, dropped)), 0f, "same seed, same masks");
        // B starts at 0, so after 3 steps B's entries are O(lr) = 1e-2; masking 30% of A's inputs changes A's and
        // B's gradients by O(1) relative, far above the 0 difference two equal runs have
        assertTrue(maxAbsDiff(flatten(without), flatten(with)) > 1e-4, "dropout changed the training");
        try (FineTuneJob job = new FineTuneJob(model, d, dropped, List.of())) {
            job.run(Optional.empty(), r -> { });
            // evaluation never drops: the same rows give the same loss twice
            assertEquals(job.evaluate(d.heldOut(), true), job.evaluate(d.heldOut(), true), 0.0);
            job.adapter("stories260k").write(dir.resolve("dropout-adapter"));
        }
        JsonNode cfg = JSON.readTree(dir.resolve("dropout-adapter/adapter_config.json").toFile());
        assertEquals(0.3, cfg.get("lora_dropout").asDouble(), 1e-9);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config(Method.DORA, 3, 1e-2).withLoraDropout(0.1));
        assertTrue(e.getMessage().contains("lora method only"), e.getMessage());
    }

    private static Map<String, float[]> trainedValues(TrainingData d, FineTuneConfig c) throws IOException {
        return trainedValues(d, c, r -> { });
    }

    private static Map<String, float[]> trainedValues(TrainingData d, FineTuneConfig c,
                                                      java.util.function.Consumer<StepReport> reports)
            throws IOException {
        try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
            job.run(Optional.empty(), reports);
            return job.parameters().values();
        }
    }

    private static float[] flatten(Map<String, float[]> values) {
        int n = values.values().stream().mapToInt(v -> v.length).sum();
        float[] out = new float[n];
        int at = 0;
        for (float[] v : values.values()) {
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Test
    void adapterIsWrittenInPeftLayoutAndAppliesAsTrained() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 20);
        for (Method method : List.of(Method.LORA, Method.DORA)) {
            FineTuneConfig c = config(method, 3, 1e-2);
            TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
            Path out = dir.resolve("adapter-" + method);
            Path merged = dir.resolve("merged-" + method);
            int[] ids = tokenizer.encode("The castle was built in 1200 .", true);
            float[] trained;
            try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
                job.run(Optional.empty(), r -> { });
                job.adapter(MODEL.toString()).write(out);
                job.writeMerged(MODEL, merged);
                try (NDManager s = NDManager.newBaseManager()) {
                    trained = model.forward(s, TokenBatch.of(ids),
                            ForwardOptions.defaults().withDeltas(job.parameters().deltas(s))).logits().toFloatArray();
                }
            }
            JsonNode cfg = JSON.readTree(out.resolve("adapter_config.json").toFile());
            // every key is a field of PEFT's LoraConfig (PeftConfig.from_pretrained passes them as keyword arguments)
            java.util.Set<String> peftFields = java.util.Set.of("peft_type", "task_type", "base_model_name_or_path",
                    "revision", "inference_mode", "r", "target_modules", "lora_alpha", "lora_dropout",
                    "fan_in_fan_out", "bias", "use_rslora", "modules_to_save", "init_lora_weights",
                    "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "use_dora");
            cfg.fieldNames().forEachRemaining(k -> assertTrue(peftFields.contains(k), "not a LoraConfig field: " + k));
            assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
            assertEquals("none", cfg.get("bias").asText());
            assertEquals(false, cfg.get("fan_in_fan_out").asBoolean(), "Llama projections are nn.Linear");
            assertEquals(0.0, cfg.get("lora_dropout").asDouble());
            assertEquals(java.util.Set.copyOf(LoraTargets.LLAMA_DEFAULT),
                    java.util.Set.copyOf(JSON.convertValue(cfg.get("target_modules"), List.class)));
            assertEquals("LORA", cfg.get("peft_type").asText());
            assertEquals(8, cfg.get("r").asInt());
            assertEquals(16.0, cfg.get("lora_alpha").asDouble());
            assertEquals(method == Method.DORA, cfg.get("use_dora").asBoolean());
            assertEquals(MODEL.toString(), cfg.get("base_model_name_or_path").asText());
            assertEquals(7, cfg.get("target_modules").size());
            try (SafetensorsFile st = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                String stem = "base_model.model.model.layers.0.self_attn.q_proj";
                assertArrayEquals(new long[] {8, 64}, st.find(stem + ".lora_A.weight").orElseThrow().shape());
                assertArrayEquals(new long[] {64, 8}, st.find(stem + ".lora_B.weight").orElseThrow().shape());
                String down = "base_model.model.model.layers.4.mlp.down_proj";
                assertArrayEquals(new long[] {8, 172}, st.find(down + ".lora_A.weight").orElseThrow().shape());
                assertArrayEquals(new long[] {64, 8}, st.find(down + ".lora_B.weight").orElseThrow().shape());
                if (method == Method.DORA) {
                    assertArrayEquals(new long[] {64}, st.find(stem + ".lora_magnitude_vector").orElseThrow().shape());
                }
                // PEFT saves without the adapter name ("default") and loads F32 tensors of a "pt" file as they are
                assertEquals("pt", st.metadata().get("format"));
                assertTrue(st.tensors().stream().allMatch(t -> t.dtype() == io.emend.core.tensor.DType.F32));
                int perModule = method == Method.DORA ? 3 : 2;
                assertEquals(5 * 7 * perModule, st.tensors().size());
                assertTrue(st.tensors().stream().map(TensorInfo::name).allMatch(n -> n.startsWith("base_model.model.")));
            }
            LoraDeltas read = LoraDeltas.read(out);
            try (NDManager s = NDManager.newBaseManager();
                 Transformer m2 = Transformer.open(merged, Optional.empty())) {
                float[] applied = model.forward(s, TokenBatch.of(ids),
                        ForwardOptions.defaults().withDeltas(read.weightDeltas(s, model))).logits().toFloatArray();
                float[] fromMerged = m2.logits(s, TokenBatch.of(ids)).toFloatArray();
                // the same math in float32 in another association order: ~1e-6 relative on logits of size ~10
                assertArrayEquals(trained, applied, 1e-4f, method + ": adapter read back");
                assertArrayEquals(trained, fromMerged, 1e-4f, method + ": merged model");
            }
        }
    }

    @Test
    void fullFineTuningTrainsAndWritesAModel() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 20);
        FineTuneConfig c = config(Method.FULL, 5, 3e-3);
        TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
        try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
            FineTuneMetrics m = job.run(Optional.empty(), r -> { });
            assertTrue(m.heldOutLossAfter() < m.heldOutLossBefore(), m.toString());
            assertThrows(IllegalStateException.class, () -> job.adapter("x"));
            job.writeMerged(MODEL, dir.resolve("full"));
            try (Transformer m2 = Transformer.open(dir.resolve("full"), Optional.empty())) {
                assertEquals(model.parameterCount(), m2.parameterCount());
            }
        }
    }

    @Test
    void nonFiniteLossStopsTheRunWithItsStep() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 20);
        FineTuneConfig c = new FineTuneConfig(Method.FULL, 8, 16, List.of(), 1e30, 0.0, 0, 5, 0, 2, 1, 32, 0, 42, 0.15,
                0, FineTuneConfig.Forgetting.none());
        TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
        try (FineTuneJob job = new FineTuneJob(model, d, c, List.of())) {
            TrainingDiverged e = assertThrows(TrainingDiverged.class, () -> job.run(Optional.empty(), r -> { }));
            assertTrue(e.step() >= 2 && e.getMessage().contains("step " + e.step()), e.getMessage());
        }
    }

    @Test
    void unknownTargetModuleIsRejectedWithTheValidOnes() throws IOException {
        Path data = wikiJsonl(dir, "wiki.jsonl", 0, 10);
        FineTuneConfig c = new FineTuneConfig(Method.LORA, 8, 16, List.of("q_proj", "c_attn"), 1e-3, 0, 0, 2, 0, 2, 1,
                32, 1, 42, 0.15, 0, FineTuneConfig.Forgetting.none());
        TrainingData d = TrainingData.load(tokenizer, data, List.of(), c);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FineTuneJob(model, d, c, List.of()));
        assertTrue(e.getMessage().contains("'c_attn'") && e.getMessage().contains("down_proj"), e.getMessage());
    }
}
