package io.emend.core.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.format.Fixtures;
import io.emend.core.generate.Sampler;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.quant.WeightFormat;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Edit factors served by the quantized engine ({@code core.infer}) as a low-rank delta over the unchanged base give the
 * logits of the materialized edited model, and the graph's own served delta agrees with both.
 */
class ServedDeltaTest {

    private static final Path STORIES = Fixtures.model("stories260k");

    private static int[] prompt() throws IOException {
        try (Tokenizer t = Tokenizer.load(STORIES)) {
            return t.encode("Once upon a time there was a fox who liked to", true);
        }
    }

    @Test
    void engineDeltaOverTheBaseEqualsTheMaterializedModel(@TempDir Path tmp) throws IOException {
        int[] ids = prompt();
        EditDelta delta;
        float[] graph;
        try (Transformer m = Transformer.open(STORIES, Optional.empty()); NDManager scope = NDManager.newBaseManager()) {
            delta = EditOnModelTest.randomDelta(m, 3, new SplittableRandom(21));
            float[] all = m.forward(scope, TokenBatch.of(ids), delta.applyTo(ForwardOptions.defaults(), scope))
                    .logits().toFloatArray();
            graph = java.util.Arrays.copyOfRange(all, all.length - all.length / ids.length, all.length);
        }
        assertEquals(2, ServedDelta.adapter("edit", delta).all().size(), "one delta per edited down-projection");
        float[] served = servedEqualsMaterialized(STORIES, delta, ids, tmp, 0.1);
        for (int i = 0; i < served.length; i++) {
            // F32: the graph's PyTorch sums are the same products in another order (see servedEqualsMaterialized)
            assertEquals(graph[i], served[i], 1e-4 * (1 + Math.abs(graph[i])), "engine delta vs graph delta " + i);
        }
    }

    /**
     * The engine's last-token logits with {@code delta} served over {@code base} in F32, checked against the
     * materialized edited model's and against the plain base's, which they must move by more than {@code minChange}.
     */
    private static float[] servedEqualsMaterialized(Path base, EditDelta delta, int[] ids, Path tmp, double minChange)
            throws IOException {
        Path materialized = tmp.resolve("edited");
        EditDeltaCheckpoint.materialize(delta, base, materialized);
        QuantRule f32 = QuantRule.uniform(WeightFormat.F32);
        float[] served;
        float[] plain;
        try (Decoder d = Decoder.load(base, Optional.empty(), f32, 1)) {
            served = d.prefill(d.newSequence(ServedDelta.adapter("edit", delta)), ids, 64);
            plain = d.prefill(d.newSequence(), ids, 64);
        }
        float[] folded;
        try (Decoder edited = Decoder.load(materialized, Optional.empty(), f32, 1)) {
            folded = edited.prefill(edited.newSequence(), ids, 64);
        }
        double moved = 0;
        for (int i = 0; i < served.length; i++) {
            // F32 throughout; x·W + U(Vᵀx) against x·(W + U Vᵀ) (for GPT-2's Conv1D stored [in, out] as V Uᵀ): the
            // same products in another order, ~1e-6 of logits of size ~10. The design's agreement bound is 1e-4.
            assertEquals(folded[i], served[i], 1e-4 * (1 + Math.abs(folded[i])), "engine delta vs materialized " + i);
            moved = Math.max(moved, Math.abs(served[i] - plain[i]));
        }
        assertTrue(moved > minChange, "the delta visibly changes the logits (max change " + moved + ")");
        return served;
    }

    /**
     * Under Q8_0 the two ways of serving an edit differ: the delta adds {@code U(Vᵀx)} in F32 to {@code Q(W)·x},
     * the materialized model computes {@code Q(W + U Vᵀ)·x}. Both stay within Q8_0's error of the F32 edited model
     * (DecoderTest's bound of 0.5 on stories260k's ±20 logits, measured 0.23 without an edit) and pick the same
     * greedy token.
     */
    @Test
    void underQ8_0BothWaysStayWithinQuantizationErrorOfTheEditedModel(@TempDir Path tmp) throws IOException {
        int[] ids = prompt();
        EditDelta delta;
        try (Transformer m = Transformer.open(STORIES, Optional.empty())) {
            delta = EditOnModelTest.randomDelta(m, 3, new SplittableRandom(21));
        }
        Path materialized = tmp.resolve("edited");
        EditDeltaCheckpoint.materialize(delta, STORIES, materialized);
        float[] reference;
        float[] folded;
        try (Decoder f32 = Decoder.load(materialized, Optional.empty(), QuantRule.uniform(WeightFormat.F32), 1);
             Decoder q8 = Decoder.load(materialized, Optional.empty(), QuantRule.uniform(WeightFormat.Q8_0), 1)) {
            reference = f32.prefill(f32.newSequence(), ids, 64);
            folded = q8.prefill(q8.newSequence(), ids, 64);
        }
        float[] served;
        try (Decoder q8 = Decoder.load(STORIES, Optional.empty(), QuantRule.uniform(WeightFormat.Q8_0), 1)) {
            served = q8.prefill(q8.newSequence(ServedDelta.adapter("edit", delta)), ids, 64);
        }
        double servedError = 0;
        double foldedError = 0;
        double gap = 0;
        for (int i = 0; i < reference.length; i++) {
            servedError = Math.max(servedError, Math.abs(served[i] - reference[i]));
            foldedError = Math.max(foldedError, Math.abs(folded[i] - reference[i]));
            gap = Math.max(gap, Math.abs(served[i] - folded[i]));
        }
        System.out.printf("Q8_0 edit: delta %.4f, materialized %.4f off F32; apart %.4f%n", servedError, foldedError, gap);
        assertTrue(servedError < 0.5 && foldedError < 0.5, "delta " + servedError + ", materialized " + foldedError);
        assertEquals(Sampler.argmax(reference), Sampler.argmax(served));
        assertEquals(Sampler.argmax(folded), Sampler.argmax(served));
    }

    @Test
    void gpt2EditFactorsOverTheBaseEqualTheMaterializedModel(@TempDir Path tmp) throws IOException {
        Path gpt2 = Fixtures.model("tiny-gpt2");
        // rank-2 factors on layer 1's Conv1D down-projection (stored [in 256, out 64]), in Linear orientation
        SplittableRandom random = new SplittableRandom(8);
        float[] u = new float[64 * 2];
        float[] v = new float[256 * 2];
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) (random.nextDouble() - 0.5);
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextDouble() - 0.5);
        }
        EditDelta delta = new EditDelta("rome", 2, java.util.Map.of("transformer.h.1.mlp.c_proj.weight",
                new EditDelta.Factors(64, 256, 2, u, v)));
        servedEqualsMaterialized(gpt2, delta, new int[] {15, 72, 101, 108, 108, 111, 32, 119}, tmp, 0.05);
    }

    @Test
    void factorsOffTheProjectionsAreRejected() {
        EditDelta onEmbedding = new EditDelta("rome", 1, java.util.Map.of("model.embed_tokens.weight",
                new EditDelta.Factors(2, 3, 1, new float[2], new float[3])));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServedDelta.adapter("x", onEmbedding));
        assertTrue(e.getMessage().contains("not on a layer's projection"), e.getMessage());
    }
}
