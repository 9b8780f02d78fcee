package io.emend.core.merge.adamerging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.plan.MergeProgress;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.merge.recipe.RecipeParser;
import io.emend.core.tensor.TensorSource;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CoefficientSearchTest {

    @TempDir
    Path dir;

    /** The paper's plain search: no prior, no held-out part. */
    private MergeRecipe recipe(String granularity, int steps) throws Exception {
        return recipe(granularity, steps, "prior: 0\n  held_out: 0");
    }

    private MergeRecipe recipe(String granularity, int steps, String options) throws Exception {
        return recipe(granularity, steps, 0.05, options);
    }

    private MergeRecipe recipe(String granularity, int steps, double lr, String options) throws Exception {
        FineTunedPair pair = FineTunedPair.get();
        Path file = dir.resolve("adamerging.yml");
        Files.writeString(file, """
                merge_method: adamerging
                base_model: %s
                models:
                  - model: %s
                  - model: %s
                    parameters: {weight: 0.4}
                parameters:
                  granularity: %s
                  steps: %d
                  lr: %s
                  text: %s
                  sequence_length: 64
                  batch_size: 4
                  sequences: 16
                  %s
                """.formatted(FineTunedPair.BASE, pair.stories, pair.wiki, granularity, steps, lr, pair.unlabeled,
                options));
        return RecipeParser.read(file);
    }

    @Test
    void taskWiseLearnedCoefficientsLowerTheEntropyOfTheInitialOnes() throws Exception {
        List<Integer> seen = new ArrayList<>();
        LearnedCoefficients learned = CoefficientSearch.run(recipe("task", 12), Path::of,
                (step, steps, entropy) -> seen.add(step));
        assertEquals(12, seen.size());
        assertEquals(1, learned.groups().size());
        assertEquals(0.3, learned.initial()[0][0], 0);
        assertEquals(0.4, learned.initial()[1][0], 0);
        assertTrue(learned.entropyAfter() < learned.entropyBefore() - 1e-3,
                "entropy " + learned.entropyBefore() + " -> " + learned.entropyAfter());
        assertNotEquals(0.3, learned.learned()[0][0]);
        for (double[] model : learned.learned()) {
            for (double lambda : model) {
                assertTrue(lambda >= 0 && lambda <= 1, "coefficients stay in [0, 1], got " + lambda);
            }
        }
    }

    @Test
    void layerWiseMergeWritesTheLearnedCoefficientsAndTheirEntropy() throws Exception {
        FineTunedPair pair = FineTunedPair.get();
        MergeRecipe recipe = recipe("layer", 10);
        Path out = dir.resolve("merged");
        LearnedCoefficients learned;
        try (MergePlan plan = MergePlan.create(recipe, Path::of, CoefficientSearch.Listener.NONE)) {
            learned = plan.learned().orElseThrow();
            MergeExecutor.run(plan, out, MergeExecutor.Options.defaults(), MergeProgress.NONE);
        }
        assertEquals(6, learned.groups().size());
        assertTrue(learned.entropyAfter() < learned.entropyBefore() - 1e-3,
                "entropy " + learned.entropyBefore() + " -> " + learned.entropyAfter());

        JsonNode written = new ObjectMapper().readTree(out.resolve(LearnedCoefficients.FILE_NAME).toFile());
        assertEquals("layer", written.get("granularity").asText());
        assertEquals("model.layers.2.", written.get("models").get(1).get("coefficients").get(2).get("filter").asText());
        assertEquals(learned.learned()[1][2],
                written.get("models").get(1).get("coefficients").get(2).get("learned").asDouble(), 0);

        // every element of a layer-2 tensor is base + Σ λ[k][2]·(model_k − base), computed here in double
        String name = "model.layers.2.mlp.down_proj.weight";
        float[] merged = read(out, name);
        float[] base = read(FineTunedPair.BASE, name);
        float[] a = read(pair.stories, name);
        float[] b = read(pair.wiki, name);
        for (int i = 0; i < merged.length; i++) {
            double expected = base[i] + learned.learned()[0][2] * ((double) a[i] - base[i])
                    + learned.learned()[1][2] * ((double) b[i] - base[i]);
            // the executor forms each delta in F32 before its double sum: a few ulps of the largest input apart
            float scale = Math.max(Math.abs(base[i]), Math.max(Math.abs(a[i]), Math.abs(b[i])));
            assertEquals((float) expected, merged[i], 4 * Math.ulp(scale), name + "[" + i + "]");
        }
        // the embedding sits outside the layers: the last group
        float[] embMerged = read(out, "model.embed_tokens.weight");
        float[] embBase = read(FineTunedPair.BASE, "model.embed_tokens.weight");
        float[] embA = read(pair.stories, "model.embed_tokens.weight");
        float[] embB = read(pair.wiki, "model.embed_tokens.weight");
        double expected = embBase[7] + learned.learned()[0][5] * ((double) embA[7] - embBase[7])
                + learned.learned()[1][5] * ((double) embB[7] - embBase[7]);
        assertEquals((float) expected, embMerged[7], 4 * Math.ulp(Math.max(Math.abs(embBase[7]),
                Math.max(Math.abs(embA[7]), Math.abs(embB[7])))));

        // the merged model, loaded as a plain model, has the entropy the search reported
        TextSample sample;
        try (Tokenizer tokenizer = Tokenizer.load(FineTunedPair.BASE)) {
            sample = TextSample.of(Files.readString(pair.unlabeled), tokenizer, 64, 4, 16);
        }
        try (EntropyObjective plain = EntropyObjective.load(out, List.of(out), Granularity.TASK)) {
            assertTrue(plain.changedTensors().isEmpty());
            assertEquals(learned.entropyAfter(), CoefficientSearch.sampleEntropy(plain, sample, new double[][] {{0}}),
                    1e-4);
        }
    }

    @Test
    void thePriorKeepsTheCoefficientsNearerTheirStart() throws Exception {
        LearnedCoefficients free = CoefficientSearch.run(recipe("task", 12), Path::of, CoefficientSearch.Listener.NONE);
        LearnedCoefficients held = CoefficientSearch.run(recipe("task", 12, "prior: 50\n  held_out: 0"), Path::of,
                CoefficientSearch.Listener.NONE);
        double freeShift = shift(free);
        double heldShift = shift(held);
        assertTrue(freeShift > 0.05, "the plain search moves, by " + freeShift);
        // γ = 50 against an entropy slope of about 1 nat per unit: equilibrium within 1/50 of the start
        assertTrue(heldShift < 0.5 * freeShift && heldShift < 0.05, "prior 50 moves " + heldShift + ", plain "
                + freeShift);
    }

    @Test
    void coefficientsStartAtTaskArithmeticsLambdaAndStayInTheirRange() throws Exception {
        LearnedCoefficients learned = CoefficientSearch.run(recipe("layer", 8,
                "prior: 0\n  held_out: 0\n  lambda: 0.75\n  min_weight: 0.25\n  max_weight: 0.32"), Path::of,
                CoefficientSearch.Listener.NONE);
        // weight 0.3 · lambda 0.75 = 0.225 lies below min_weight, so it starts at 0.25; weight 0.4 · 0.75 = 0.3
        assertEquals(0.25, learned.initial()[0][0], 1e-12);
        assertEquals(0.3, learned.initial()[1][0], 1e-12);
        for (double[] model : learned.learned()) {
            for (double lambda : model) {
                assertTrue(lambda >= 0.25 - 1e-7 && lambda <= 0.32 + 1e-7, "in [0.25, 0.32]: " + lambda);
            }
        }
    }

    @Test
    void earlyStoppingReturnsTheCoefficientsWithTheLowestHeldOutEntropy() throws Exception {
        List<Integer> seen = new ArrayList<>();
        // an lr of 5 throws every coefficient to a bound at the first step, where it stays: the held-out entropy then
        // stops changing, and patience 1 must end the search long before its 30 steps
        LearnedCoefficients learned = CoefficientSearch.run(recipe("task", 30, 5.0,
                "prior: 0\n  held_out: 0.25\n  eval_every: 1\n  patience: 1\n  held_out_measure: entropy"), Path::of,
                (step, steps, entropy) -> seen.add(step));
        assertTrue(seen.size() < 30, "stopped after " + seen.size() + " steps");
        assertEquals(seen.size(), learned.steps());
        assertTrue(learned.heldOutAfter() <= learned.heldOutBefore(), learned.heldOutBefore() + " -> "
                + learned.heldOutAfter());

        FineTunedPair pair = FineTunedPair.get();
        TextSample.Split split;
        try (Tokenizer tokenizer = Tokenizer.load(FineTunedPair.BASE)) {
            split = TextSample.split(Files.readString(pair.unlabeled), tokenizer, 64, 4, 16, 0.25);
        }
        try (EntropyObjective objective = EntropyObjective.load(FineTunedPair.BASE, List.of(pair.stories, pair.wiki),
                Granularity.TASK)) {
            // the reported held-out entropy is that of the returned coefficients (float rounding of one forward)
            assertEquals(learned.heldOutAfter(), CoefficientSearch.sampleEntropy(objective, split.heldOut().orElseThrow(),
                    learned.learned()), 1e-4);
        }
        assertEquals(4, split.heldOut().orElseThrow().batches().stream().mapToInt(b -> b.batchSize()).sum());
    }

    @Test
    void theNextTokenLossIsTheLogarithmOfPerplexity() throws Exception {
        FineTunedPair pair = FineTunedPair.get();
        String doc = Files.readString(pair.unlabeled).split("\n\n")[0];
        try (Tokenizer tokenizer = Tokenizer.load(FineTunedPair.BASE);
             EntropyObjective objective = EntropyObjective.load(FineTunedPair.BASE, List.of(pair.stories),
                     Granularity.TASK);
             io.emend.core.graph.Transformer base = io.emend.core.graph.Transformer.open(FineTunedPair.BASE,
                     Optional.empty())) {
            int[] ids = tokenizer.encode(doc, true);
            assertTrue(ids.length < base.config().maxPositions(), "one window: " + ids.length);
            double loss = objective.nextTokenLoss(new double[][] {{0}}, io.emend.core.graph.TokenBatch.of(ids))
                    .entropy();
            double perplexity = io.emend.core.eval.Perplexity.of(base, tokenizer, doc).perplexity();
            // two F32 forwards of the same weights, one window each: equal to float rounding of a mean of logs
            assertEquals(Math.log(perplexity), loss, 1e-4);
        }
    }

    private static double shift(LearnedCoefficients c) {
        double max = 0;
        for (int k = 0; k < c.learned().length; k++) {
            for (int g = 0; g < c.learned()[k].length; g++) {
                max = Math.max(max, Math.abs(c.learned()[k][g] - c.initial()[k][g]));
            }
        }
        return max;
    }

    @Test
    void aMissingTextFailsBeforeAnyStep() throws Exception {
        MergeRecipe recipe = recipe("task", 3);
        Path missing = dir.resolve("no-such.txt");
        var e = assertThrows(io.emend.core.merge.MergeException.class, () -> CoefficientSearch.run(recipe,
                ref -> ref.endsWith("unlabeled.txt") ? missing : Path.of(ref), (s, n, h) -> {
                    throw new AssertionError("no step may run");
                }));
        assertTrue(e.getMessage().contains("is not a readable file"), e.getMessage());
    }

    private static float[] read(Path modelDir, String tensor) throws Exception {
        try (TensorSource s = ShardedCheckpoint.open(modelDir, Optional.empty())) {
            var bytes = s.bytes(tensor);
            float[] v = new float[(int) (bytes.byteSize() / 4)];
            java.lang.foreign.MemorySegment.copy(bytes, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED
                    .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, v, 0, v.length);
            return v;
        }
    }
}
