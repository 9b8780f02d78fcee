package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of the whole forward on small random models: padding on either side, the KV cache, deltas, probes and
 * interventions must each give the same numbers as the plain forward they are defined by. Two float32 computations of
 * the same quantity in a different order (batched vs alone, cached vs full) agree to about 1e-6 on logits of size
 * ~10; 1e-4 leaves room for that while any real mistake (a shifted position, a visible pad) moves logits by O(1).
 */
class TransformerTest {

    private static final double TOL = 1e-4;
    /** The same computation run twice: equal up to a BLAS library choosing another summation order (~1e-7). */
    private static final double SAME = 1e-6;
    private static NDManager scope;

    @BeforeAll
    static void open() {
        scope = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        scope.close();
    }

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama untied", TinyModels.llamaConfig(false, false)),
                Arguments.of("qwen2 tied with qkv bias", TinyModels.llamaConfig(true, true)),
                Arguments.of("gpt2", TinyModels.gpt2Config()));
    }

    static Transformer load(ModelConfig c, long seed) {
        return Transformer.load(c, checkpoint(c, seed));
    }

    static InMemoryTensors checkpoint(ModelConfig c, long seed) {
        return switch (c) {
            case LlamaConfig l -> TinyModels.llama(l, seed);
            case Gpt2Config g -> TinyModels.gpt2(g, seed, "transformer.");
        };
    }

    static float[][] logits(Transformer m, int... ids) {
        try (NDManager s = scope.newSubManager()) {
            return rows(m.logits(s, TokenBatch.of(ids)).toFloatArray(), ids.length);
        }
    }

    static float[][] rows(float[] flat, int rows) {
        int width = flat.length / rows;
        float[][] r = new float[rows][width];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(flat, i * width, r[i], 0, width);
        }
        return r;
    }

    static void assertRowClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tol, what + ": max abs diff " + worst);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void paddingOnEitherSideLeavesLogitsUnchanged(String name, ModelConfig c) {
        try (Transformer m = load(c, 11)) {
            int[] a = {3, 9, 27, 5, 60, 1};
            int[] b = {44, 2, 7};
            float[][] aloneA = logits(m, a);
            float[][] aloneB = logits(m, b);
            for (TokenBatch.Padding side : TokenBatch.Padding.values()) {
                TokenBatch batch = TokenBatch.padded(List.of(a, b), side, 63);
                try (NDManager s = scope.newSubManager()) {
                    NDArray out = m.logits(s, batch);
                    assertEquals(new Shape(2, 6, c.vocabSize()), out.getShape());
                    float[][] rows = rows(out.toFloatArray(), 12);
                    for (int t = 0; t < a.length; t++) {
                        assertRowClose(aloneA[t], rows[t], TOL, name + " " + side + " row a position " + t);
                    }
                    int offset = side == TokenBatch.Padding.LEFT ? 3 : 0;
                    for (int t = 0; t < b.length; t++) {
                        assertRowClose(aloneB[t], rows[6 + offset + t], TOL, name + " " + side + " row b position " + t);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void cachedDecodingMatchesTheFullForward(String name, ModelConfig c) {
        try (Transformer m = load(c, 12)) {
            int[] a = {3, 9, 27, 5, 60, 1, 17, 8};
            int[] b = {44, 2, 7, 30, 31, 32};
            float[][] fullA = logits(m, a);
            float[][] fullB = logits(m, b);
            // Prefill the first 4 / 2 tokens left-padded, then feed the rest one token per step.
            try (NDManager s = scope.newSubManager(); KvCache cache = m.newCache(s, 2)) {
                ForwardOptions last = ForwardOptions.defaults().withCache(cache).withLogits(LogitsScope.LAST);
                TokenBatch prefill = TokenBatch.padded(List.of(new int[] {3, 9, 27, 5}, new int[] {44, 2}),
                        TokenBatch.Padding.LEFT, 0);
                float[][] out = rows(m.forward(s, prefill, last).logits().toFloatArray(), 2);
                assertRowClose(fullA[3], out[0], TOL, name + " prefill a");
                assertRowClose(fullB[1], out[1], TOL, name + " prefill b");
                for (int step = 0; step < 4; step++) {
                    try (NDManager stepScope = s.newSubManager()) {
                        TokenBatch next = new TokenBatch(new int[][] {{a[4 + step]}, {b[2 + step]}},
                                new int[][] {{1}, {1}});
                        out = rows(m.forward(stepScope, next, last).logits().toFloatArray(), 2);
                    }
                    assertRowClose(fullA[4 + step], out[0], TOL, name + " step " + step + " a");
                    assertRowClose(fullB[2 + step], out[1], TOL, name + " step " + step + " b");
                }
                assertEquals(8, cache.length());
                assertEquals(6, cache.realTokens(1));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void deltasEqualTheWeightTheyDescribe(String name, ModelConfig c) {
        SplittableRandom rng = new SplittableRandom(5);
        InMemoryTensors ckpt = checkpoint(c, 13);
        int[] ids = {5, 17, 33, 2, 60};
        try (Transformer m = Transformer.load(c, ckpt); NDManager s = scope.newSubManager()) {
            String target = m.mlpDownProjection(1);
            Shape shape = m.parameter(target).getShape(); // [in, out]
            int in = (int) shape.get(0);
            int out = (int) shape.get(1);
            int rank = 3;
            NDArray a = s.create(gaussian(rng, in * rank, 0.3), new Shape(in, rank));
            NDArray b = s.create(gaussian(rng, rank * out, 0.3), new Shape(rank, out));
            double scale = 0.7;
            float[] dense = a.matMul(b).mul(scale).toFloatArray();

            ForwardOptions lowRank = ForwardOptions.defaults().withDelta(target, new WeightDelta.LowRank(a, b, scale));
            ForwardOptions asDense = ForwardOptions.defaults().withDelta(target,
                    new WeightDelta.Dense(s.create(dense, shape)));
            float[] viaLowRank = m.forward(s, TokenBatch.of(ids), lowRank).logits().toFloatArray();
            float[] viaDense = m.forward(s, TokenBatch.of(ids), asDense).logits().toFloatArray();
            float[] plain = m.logits(s, TokenBatch.of(ids)).toFloatArray();
            assertRowClose(viaDense, viaLowRank, TOL, name + " low-rank vs dense");
            assertTrue(maxAbsDiff(plain, viaLowRank) > 1e-2, name + ": the delta must change the output");

            // The same change written into the checkpoint. The file stores [out, in] for Llama, [in, out] for GPT-2.
            float[] stored = ckpt.floats(target);
            boolean transposed = c instanceof LlamaConfig;
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < out; o++) {
                    int idx = transposed ? o * in + i : i * out + o;
                    stored[idx] += dense[i * out + o];
                }
            }
            ckpt.put(target, stored, transposed ? new long[] {out, in} : new long[] {in, out});
            try (Transformer edited = Transformer.load(c, ckpt)) {
                float[] viaWeights = edited.logits(s, TokenBatch.of(ids)).toFloatArray();
                assertRowClose(viaWeights, viaDense, TOL, name + " dense delta vs edited weights");
            }
            float[] unchanged = m.logits(s, TokenBatch.of(ids)).toFloatArray();
            assertRowClose(plain, unchanged, SAME, name + " the stored weight is untouched");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void probesSeeTheValuesTheForwardUses(String name, ModelConfig c) {
        int[] ids = {5, 17, 33, 2};
        try (Transformer m = load(c, 14); NDManager s = scope.newSubManager()) {
            int lastLayer = m.layers() - 1;
            ForwardOptions o = ForwardOptions.defaults().withCaptures(Probe.mlpDownInput(0), Probe.mlpDownOutput(0),
                    Probe.blockOutput(lastLayer));
            ForwardResult r = m.forward(s, TokenBatch.of(ids), o);
            NDArray in = r.captured(Probe.mlpDownInput(0));
            NDArray out = r.captured(Probe.mlpDownOutput(0));
            NDArray expected = in.matMul(m.parameter(m.mlpDownProjection(0)));
            String bias = m.mlpDownProjection(0).replace(".weight", ".bias");
            if (m.parameterNames().contains(bias)) {
                expected = expected.add(m.parameter(bias));
            }
            assertRowClose(expected.toFloatArray(), out.toFloatArray(), 1e-5, name + " down-projection in/out");
            assertEquals(new Shape(1, 4, c.hiddenSize()), r.captured(Probe.blockOutput(lastLayer)).getShape());
            assertThrows(IllegalArgumentException.class, () -> r.captured(Probe.blockOutput(0)));

            // An intervention that returns its input changes nothing; one that adds a vector to the MLP output
            // equals adding that vector to every position's residual stream, which is what a bias delta does.
            float[] plain = r.logits().toFloatArray();
            float[] identity = m.forward(s, TokenBatch.of(ids), ForwardOptions.defaults()
                    .withIntervention((p, v) -> v)).logits().toFloatArray();
            assertRowClose(plain, identity, SAME, name + " identity intervention");
            NDArray shift = s.create(gaussian(new SplittableRandom(3), c.hiddenSize(), 0.5));
            float[] shifted = m.forward(s, TokenBatch.of(ids), ForwardOptions.defaults().withIntervention(
                    (p, v) -> p.equals(Probe.mlpDownOutput(0)) ? v.add(shift) : v)).logits().toFloatArray();
            assertTrue(maxAbsDiff(plain, shifted) > 1e-2, name + " intervention takes effect");
            if (m.parameterNames().contains(bias)) {
                float[] viaBias = m.forward(s, TokenBatch.of(ids), ForwardOptions.defaults()
                        .withDelta(bias, new WeightDelta.Dense(shift))).logits().toFloatArray();
                assertRowClose(viaBias, shifted, TOL, name + " intervention vs bias delta");
            }

            // The embedding site is everything the blocks see of the tokens: other tokens run with these tokens'
            // embeddings in place of their own give these tokens' logits (a causal trace corrupts the subject here).
            NDArray embedded = m.forward(s, TokenBatch.of(ids), ForwardOptions.defaults().withLogits(LogitsScope.NONE)
                    .withCaptures(Probe.embedding())).captured(Probe.embedding());
            assertEquals(new Shape(1, 4, c.hiddenSize()), embedded.getShape());
            float[] swapped = m.forward(s, TokenBatch.of(9, 40, 1, 7), ForwardOptions.defaults().withIntervention(
                    (p, v) -> p.equals(Probe.embedding()) ? v.mul(0).add(embedded) : v)).logits().toFloatArray();
            assertRowClose(plain, swapped, SAME, name + " embeddings replaced");
        }
    }

    @Test
    void gpt2LoadsWithOrWithoutTheTransformerPrefix() {
        Gpt2Config c = TinyModels.gpt2Config();
        int[] ids = {1, 2, 3, 40};
        try (Transformer with = Transformer.load(c, TinyModels.gpt2(c, 21, "transformer."));
             Transformer without = Transformer.load(c, TinyModels.gpt2(c, 21, ""))) {
            float[][] a = logits(with, ids);
            float[][] b = logits(without, ids);
            for (int t = 0; t < ids.length; t++) {
                assertRowClose(a[t], b[t], SAME, "position " + t);
            }
            assertTrue(with.parameterNames().contains("transformer.h.1.mlp.c_proj.weight"));
            assertEquals(with.parameter("h.0.ln_1.weight").getShape(), new Shape(32));
        }
    }

    @Test
    void tiedHeadUsesTheEmbedding() {
        LlamaConfig c = TinyModels.llamaConfig(true, false);
        InMemoryTensors ckpt = TinyModels.llama(c, 22);
        // A stray lm_head.weight in a tied checkpoint is ignored: the head is the embedding.
        ckpt.random("lm_head.weight", new SplittableRandom(1), 1.0, c.vocabSize(), c.hiddenSize());
        try (Transformer m = Transformer.load(c, ckpt); NDManager s = scope.newSubManager()) {
            assertTrue(!m.parameterNames().contains("lm_head.weight"));
            ForwardResult r = m.forward(s, TokenBatch.of(4, 5), ForwardOptions.defaults()
                    .withCaptures(Probe.blockOutput(1)));
            NDArray h = RmsNorm.apply(r.captured(Probe.blockOutput(1)), m.parameter("model.norm.weight"), c.rmsNormEps());
            NDArray expected = h.matMul(m.parameter("model.embed_tokens.weight").transpose());
            assertRowClose(expected.toFloatArray(), r.logits().toFloatArray(), 1e-5, "tied head");
        }
    }

    @Test
    void badInputIsRejectedWithAMessage() {
        LlamaConfig c = TinyModels.llamaConfig(false, true);
        try (Transformer m = load(c, 15); NDManager s = scope.newSubManager()) {
            assertMessage(() -> m.logits(s, TokenBatch.of(1, 64)), "outside the vocabulary");
            assertMessage(() -> m.logits(s, TokenBatch.of(new int[33])), "context is 32");
            String down = m.mlpDownProjection(0);
            NDArray wrong = s.zeros(new Shape(3, 3));
            assertMessage(() -> m.forward(s, TokenBatch.of(1), ForwardOptions.defaults()
                    .withDelta(down, new WeightDelta.Dense(wrong))), "has shape (3, 3)");
            assertMessage(() -> m.forward(s, TokenBatch.of(1), ForwardOptions.defaults()
                    .withDelta("model.layers.9.mlp.down_proj.weight", new WeightDelta.Dense(wrong))), "unknown weight");
            assertMessage(() -> m.forward(s, TokenBatch.of(1), ForwardOptions.defaults()
                    .withDelta("model.norm.weight", new WeightDelta.LowRank(wrong, wrong, 1))), "not one");
            assertMessage(() -> m.forward(s, TokenBatch.of(1), ForwardOptions.defaults()
                    .withDelta(down, new WeightDelta.LowRank(wrong, wrong, 1))), "needs a [48, r]");
            assertMessage(() -> m.forward(s, TokenBatch.of(1), ForwardOptions.defaults()
                    .withCaptures(Probe.blockOutput(2))), "has 2 layers");
            try (KvCache cache = m.newCache(s, 2)) {
                assertMessage(() -> m.forward(s, TokenBatch.of(1), ForwardOptions.defaults().withCache(cache)),
                        "cache holds 2 rows");
            }
        }
        assertMessage(() -> Transformer.load(c, TinyModels.llama(c, 1).without("model.layers.1.self_attn.k_proj.bias")),
                "no tensor model.layers.1.self_attn.k_proj.bias");
        assertMessage(() -> Transformer.load(c, TinyModels.llama(c, 1)
                .put("model.norm.weight", new float[31], 31)), "tensor model.norm.weight has shape [31]");
        float[] nan = new float[32];
        nan[3] = Float.NaN;
        assertMessage(() -> Transformer.load(c, TinyModels.llama(c, 1).put("model.norm.weight", nan, 32)), "NaN");
        assertMessage(() -> Transformer.load(new LlamaConfig("llama", 32, 48, 2, 4, 3, 8, 64, 32, 1e-5, 1e4, true, false,
                1, 2), TinyModels.llama(c, 1)), "num_key_value_heads");
        Gpt2Config g = TinyModels.gpt2Config();
        assertMessage(() -> Transformer.load(g, TinyModels.gpt2(g, 1, "transformer.").without("transformer.wte.weight")),
                "neither transformer.wte.weight nor wte.weight");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable e, String fragment) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(fragment), "message '" + x.getMessage() + "' should contain '" + fragment + "'");
    }

    static float[] gaussian(SplittableRandom rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * std);
        }
        return a;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    @Test
    void randomModelsHaveTheConfiguredShape() {
        LlamaConfig c = TinyModels.llamaConfig(false, false);
        try (Transformer m = Transformer.random(c, 3, 0.02); NDManager s = scope.newSubManager()) {
            long expected = 64L * 32 + 2 * (32 + 32 * 32 + 2 * 16 * 32 + 32 * 32 + 32 + 3 * 48 * 32) + 32 + 64L * 32;
            assertEquals(expected, m.parameterCount());
            assertEquals(new Shape(1, 3, 64), m.logits(s, TokenBatch.of(1, 2, 3)).getShape());
            assertNotEquals(0f, m.parameter("model.layers.0.mlp.up_proj.weight").abs().sum().getFloat());
        }
    }
}
