package io.emend.core.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.WeightFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AdapterTest {

    private static final Path MODEL = Golden.dir("stories260k");
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286};

    static LowRankDelta randomDelta(Random random, int rank, int in, int out, float scale) {
        float[] a = new float[rank * in];
        float[] b = new float[out * rank];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (random.nextGaussian() * 0.1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (random.nextGaussian() * 0.1);
        }
        return new LowRankDelta(a, b, rank, in, out, scale);
    }

    static Adapter randomAdapter(String name, long seed, LlamaConfig c) {
        Random random = new Random(seed);
        int qDim = c.numHeads() * c.headDim();
        int kvDim = c.numKvHeads() * c.headDim();
        return Adapter.of(name, Map.of(
                new Adapter.Target(0, Projection.Q), randomDelta(random, 4, c.hiddenSize(), qDim, 2f),
                new Adapter.Target(1, Projection.V), randomDelta(random, 4, c.hiddenSize(), kvDim, 2f),
                new Adapter.Target(3, Projection.DOWN), randomDelta(random, 8, c.intermediateSize(), c.hiddenSize(), 0.5f)));
    }

    /** {@code W + s·B·A} in double, rounded once: the dense weight the adapter stands for. */
    static float[] merged(float[] w, LowRankDelta d) {
        float[] m = w.clone();
        for (int o = 0; o < d.out(); o++) {
            for (int i = 0; i < d.in(); i++) {
                double s = 0;
                for (int r = 0; r < d.rank(); r++) {
                    s += (double) d.b()[o * d.rank() + r] * d.a()[r * d.in() + i];
                }
                m[o * d.in() + i] = (float) (w[o * d.in() + i] + d.scale() * s);
            }
        }
        return m;
    }

    static float[] run(Decoder decoder, Sequence s) {
        decoder.prefill(s, PROMPT, 3);
        return decoder.step(List.of(Decoder.Chunk.next(s, 300))).getFirst()[0];
    }

    @Test
    void adapterAtServeTimeEqualsTheMergedWeights() throws IOException {
        LlamaConfig config = (LlamaConfig) HfConfig.read(MODEL.resolve("config.json"));
        Adapter adapter = randomAdapter("lora", 7, config);
        var overlay = new OverlayTensors(ShardedCheckpoint.open(MODEL, Optional.empty()));
        for (var e : adapter.all().entrySet()) {
            String name = "model.layers." + e.getKey().layer() + "." + e.getKey().projection().hfName() + ".weight";
            overlay.replace(name, merged(overlay.floats(name), e.getValue().getFirst()));
        }
        QuantRule f32 = QuantRule.uniform(WeightFormat.F32);
        try (Decoder merged = new Decoder(DecoderWeights.load(config, overlay, f32), 2);
             Decoder base = Decoder.load(MODEL, Optional.empty(), f32, 2)) {
            float[] expected = run(merged, merged.newSequence());
            float[] served = run(base, base.newSequence(adapter));
            float[] plain = run(base, base.newSequence());
            // Same math in another association ((x·A)·B against x·(A·B)): float32 rounding only, far below 1e-4 here,
            // while the adapter itself moves logits by whole units (checked against the base below).
            double diff = Golden.maxAbsDiff(new float[][] {expected}, new float[][] {served});
            assertTrue(diff < 1e-4, "adapter vs merged: max |Δ| " + diff);
            assertTrue(Golden.maxAbsDiff(new float[][] {expected}, new float[][] {plain}) > 0.1, "the adapter changes nothing");
        }
    }

    @Test
    void sequencesWithDifferentAdaptersShareOneBatch() throws IOException {
        try (Decoder decoder = Decoder.load(MODEL, Optional.empty(), QuantRule.MIXED, 2)) {
            LlamaConfig c = (LlamaConfig) decoder.config();
            Adapter first = randomAdapter("first", 1, c);
            Adapter second = randomAdapter("second", 2, c);
            Adapter[] adapters = {first, null, second, first.plus("both", second)};
            float[][] alone = new float[adapters.length][];
            for (int i = 0; i < adapters.length; i++) {
                alone[i] = run(decoder, decoder.newSequence(adapters[i]));
            }
            Sequence[] seqs = new Sequence[adapters.length];
            List<Decoder.Chunk> prefill = new java.util.ArrayList<>();
            for (int i = 0; i < adapters.length; i++) {
                seqs[i] = decoder.newSequence(adapters[i]);
                prefill.add(new Decoder.Chunk(seqs[i], PROMPT, false));
            }
            decoder.step(prefill);
            List<Decoder.Chunk> next = new java.util.ArrayList<>();
            for (Sequence s : seqs) {
                next.add(Decoder.Chunk.next(s, 300));
            }
            List<float[][]> together = decoder.step(next);
            for (int i = 0; i < adapters.length; i++) {
                // Batched rows use the four-at-a-time kernels: other summation order, same math.
                double diff = Golden.maxAbsDiff(new float[][] {alone[i]}, together.get(i));
                assertTrue(diff < 1e-4, "sequence " + i + ": max |Δ| " + diff);
            }
        }
    }

    @Test
    void attachAndDetachBetweenSteps() throws IOException {
        try (Decoder decoder = Decoder.load(MODEL, Optional.empty(), QuantRule.uniform(WeightFormat.Q8_0), 1)) {
            Adapter adapter = randomAdapter("edit", 3, (LlamaConfig) decoder.config());
            float[] base = run(decoder, decoder.newSequence());
            Sequence s = decoder.newSequence();
            decoder.attach(s, adapter);
            decoder.attach(s, null);
            // Detached means the base model again. Not bit for bit: the Vector API's interpreted fallback sums lanes in
            // another order than the compiled kernel, so a run before and after JIT compilation differ by float32
            // rounding (a few 1e-6 here).
            assertEquals(0, Golden.maxAbsDiff(new float[][] {base}, new float[][] {run(decoder, s)}), 1e-4);
            Sequence t = decoder.newSequence();
            decoder.prefill(t, PROMPT, 8);
            decoder.attach(t, adapter);
            float[] withAdapter = decoder.step(List.of(Decoder.Chunk.next(t, 300))).getFirst()[0];
            assertTrue(Golden.maxAbsDiff(new float[][] {base}, new float[][] {withAdapter}) > 0.01);
        }
    }

    @Test
    void adapterOfTheWrongShapeIsRejected() throws IOException {
        try (Decoder decoder = Decoder.load(MODEL, Optional.empty(), QuantRule.uniform(WeightFormat.F32), 1)) {
            Random random = new Random(4);
            Adapter wrong = Adapter.of("wrong", Map.of(new Adapter.Target(0, Projection.K), randomDelta(random, 2, 64, 64, 1f)));
            var e = assertThrows(IllegalArgumentException.class, () -> decoder.newSequence(wrong));
            assertEquals("adapter wrong: delta on layer 0 self_attn.k_proj is [64, 64], the weight is [32, 64]", e.getMessage());
            Adapter layer = Adapter.of("deep", Map.of(new Adapter.Target(9, Projection.Q), randomDelta(random, 2, 64, 64, 1f)));
            var l = assertThrows(IllegalArgumentException.class, () -> decoder.attach(decoder.newSequence(), layer));
            assertEquals("adapter deep: layer 9 does not exist (the model has 5)", l.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new LowRankDelta(new float[3], new float[4], 2, 2, 2, 1f));
        }
    }
}
