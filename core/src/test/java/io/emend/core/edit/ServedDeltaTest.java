package io.emend.core.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.infer.Adapter;
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

    @Test
    void engineDeltaOverTheBaseEqualsTheMaterializedModel(@TempDir Path tmp) throws IOException {
        int[] ids;
        try (Tokenizer t = Tokenizer.load(STORIES)) {
            ids = t.encode("Once upon a time there was a fox who liked to", true);
        }
        EditDelta delta;
        float[] graph;
        try (Transformer m = Transformer.open(STORIES, Optional.empty()); NDManager scope = NDManager.newBaseManager()) {
            delta = EditOnModelTest.randomDelta(m, 3, new SplittableRandom(21));
            float[] all = m.forward(scope, TokenBatch.of(ids), delta.applyTo(ForwardOptions.defaults(), scope))
                    .logits().toFloatArray();
            graph = java.util.Arrays.copyOfRange(all, all.length - all.length / ids.length, all.length);
        }
        Path materialized = tmp.resolve("edited");
        EditDeltaCheckpoint.materialize(delta, STORIES, materialized);
        Adapter adapter = ServedDelta.adapter("edit", delta);
        assertEquals(2, adapter.all().size(), "one delta per edited down-projection");

        QuantRule f32 = QuantRule.uniform(WeightFormat.F32);
        float[] served;
        float[] plain;
        try (Decoder base = Decoder.load(STORIES, Optional.empty(), f32, 1)) {
            served = base.prefill(base.newSequence(adapter), ids, 64);
            plain = base.prefill(base.newSequence(), ids, 64);
        }
        float[] folded;
        try (Decoder edited = Decoder.load(materialized, Optional.empty(), f32, 1)) {
            folded = edited.prefill(edited.newSequence(), ids, 64);
        }
        double moved = 0;
        for (int i = 0; i < served.length; i++) {
            // F32 throughout; x·W + U(Vᵀx) against x·(W + U Vᵀ) and the graph's PyTorch sums: the same products in
            // another order, ~1e-6 of logits of size ~10. The design's engine/graph agreement bound is 1e-4.
            assertEquals(folded[i], served[i], 1e-4 * (1 + Math.abs(folded[i])), "engine delta vs materialized " + i);
            assertEquals(graph[i], served[i], 1e-4 * (1 + Math.abs(graph[i])), "engine delta vs graph delta " + i);
            moved = Math.max(moved, Math.abs(served[i] - plain[i]));
        }
        assertTrue(moved > 0.1, "the delta visibly changes the logits (max change " + moved + ")");
    }

    @Test
    void factorsOffTheLlamaProjectionsAreRejected() {
        EditDelta onGpt2 = new EditDelta("rome", 1, java.util.Map.of("transformer.h.0.mlp.c_proj.weight",
                new EditDelta.Factors(2, 3, 1, new float[2], new float[3])));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServedDelta.adapter("x", onGpt2));
        assertTrue(e.getMessage().contains("not on a Llama layer"), e.getMessage());
    }
}
