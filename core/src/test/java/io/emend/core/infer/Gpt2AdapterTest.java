package io.emend.core.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.quant.WeightFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Adapters on GPT-2: PEFT factors on its Conv1D modules (fused {@code c_attn} included) applied by the engine over the
 * base give the logits of the differentiable graph with the same factors, which adds them in its own [in, out]
 * orientation, an independent path.
 */
class Gpt2AdapterTest {

    private static final Path MODEL = Golden.dir("tiny-gpt2");
    private static final int[] PROMPT = {15, 72, 101, 108, 108, 111, 32, 119, 111, 114};
    private static final int DIM = 64;

    /** PEFT's module paths on tiny-gpt2 and their [out, in] in Linear orientation. */
    private static final Map<String, int[]> MODULES = new LinkedHashMap<>();

    static {
        for (int l = 0; l < 2; l++) {
            String p = "transformer.h." + l + ".";
            MODULES.put(p + "attn.c_attn", new int[] {3 * DIM, DIM});
            MODULES.put(p + "attn.c_proj", new int[] {DIM, DIM});
            MODULES.put(p + "mlp.c_fc", new int[] {4 * DIM, DIM});
            MODULES.put(p + "mlp.c_proj", new int[] {DIM, 4 * DIM});
        }
    }

    @Test
    void peftFactorsOnConv1dModulesMatchTheGraph() throws IOException {
        Random random = new Random(5);
        Map<String, LowRankDelta> byModule = new LinkedHashMap<>();
        Map<Adapter.Target, List<LowRankDelta>> engine = new HashMap<>();
        for (var e : MODULES.entrySet()) {
            LowRankDelta d = AdapterTest.randomDelta(random, 4, e.getValue()[1], e.getValue()[0], 2f);
            byModule.put(e.getKey(), d);
            Adapter.onModule(e.getKey(), d).orElseThrow()
                    .forEach((t, part) -> engine.computeIfAbsent(t, k -> new ArrayList<>()).add(part));
        }
        Adapter adapter = new Adapter("gpt2-lora", engine);
        assertEquals(2 * 6, adapter.all().size(), "c_attn splits into q, k, v; c_proj, c_fc, mlp.c_proj one each");

        float[] served;
        float[] plain;
        try (Decoder d = Decoder.load(MODEL, Optional.empty(), QuantRule.uniform(WeightFormat.F32), 1)) {
            served = d.prefill(d.newSequence(adapter), PROMPT, 4);
            plain = d.prefill(d.newSequence(), PROMPT, 4);
        }
        float[] graph;
        try (Transformer m = Transformer.open(MODEL, Optional.empty()); NDManager scope = NDManager.newBaseManager()) {
            Map<String, List<WeightDelta>> deltas = new LinkedHashMap<>();
            byModule.forEach((module, d) -> deltas.put(module + ".weight", List.of(new WeightDelta.LowRank(
                    scope.create(d.a(), new Shape(d.rank(), d.in())).transpose().duplicate(),
                    scope.create(d.b(), new Shape(d.out(), d.rank())).transpose().duplicate(), d.scale(), 0))));
            float[] all = m.forward(scope, TokenBatch.of(PROMPT), ForwardOptions.defaults().withDeltas(deltas))
                    .logits().toFloatArray();
            graph = java.util.Arrays.copyOfRange(all, all.length - all.length / PROMPT.length, all.length);
        }
        double moved = 0;
        for (int i = 0; i < served.length; i++) {
            // F32 on both sides, the same sums in another order (the engine keeps the delta apart from W, PyTorch
            // adds it after its matmul): ~1e-6 apart on logits of size ~1; the design's engine/graph bound is 1e-4
            assertEquals(graph[i], served[i], 1e-4 * (1 + Math.abs(graph[i])), "logit " + i);
            moved = Math.max(moved, Math.abs(served[i] - plain[i]));
        }
        assertTrue(moved > 0.05, "the adapter visibly changes the logits (max change " + moved + ")");
    }

    @Test
    void gpt2HasNoGateToAdapt() throws IOException {
        try (Decoder d = Decoder.load(MODEL, Optional.empty(), QuantRule.uniform(WeightFormat.F32), 1)) {
            Adapter gate = Adapter.of("gate", Map.of(new Adapter.Target(0, Projection.GATE),
                    AdapterTest.randomDelta(new Random(1), 2, DIM, 4 * DIM, 1f)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.check(gate));
            assertTrue(e.getMessage().contains("has no mlp.gate_proj"), e.getMessage());
        }
    }

    @Test
    void modulePathsNameTheirProjections() {
        LowRankDelta d = AdapterTest.randomDelta(new Random(2), 2, DIM, 3 * DIM, 1f);
        Map<Adapter.Target, LowRankDelta> split = Adapter.onModule("base_model.model.transformer.h.1.attn.c_attn", d)
                .orElseThrow();
        assertEquals(DIM, split.get(new Adapter.Target(1, Projection.K)).out());
        // k's B rows are the second third of the fused B
        assertEquals(d.b()[DIM * 2], split.get(new Adapter.Target(1, Projection.K)).b()[0]);
        assertEquals(Projection.DOWN, Adapter.onModule("model.layers.3.mlp.down_proj",
                AdapterTest.randomDelta(new Random(3), 2, 8, 4, 1f)).orElseThrow().keySet().iterator().next()
                .projection());
        assertTrue(Adapter.onModule("transformer.wte", d).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Adapter.onModule("transformer.h.0.attn.c_attn",
                AdapterTest.randomDelta(new Random(4), 2, DIM, 3 * DIM + 1, 1f)));
    }
}
