package io.emend.core.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.generate.Sampler;
import io.emend.core.quant.WeightFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DecoderTest {

    /** The fixtures' README: a correct F32 computation matches the float64 reference within 1e-4 absolute. */
    private static final double GOLDEN_TOLERANCE = 1e-4;

    static Decoder load(String model, String weightsFile, QuantRule rule, int threads) throws IOException {
        return Decoder.load(Golden.dir(model), Optional.of(weightsFile), rule, threads);
    }

    static float[][] allLogits(Decoder decoder, int[] tokens, int chunkSize) {
        Sequence s = decoder.newSequence();
        List<float[]> rows = new ArrayList<>();
        for (int from = 0; from < tokens.length; from += chunkSize) {
            int[] chunk = Arrays.copyOfRange(tokens, from, Math.min(tokens.length, from + chunkSize));
            rows.addAll(Arrays.asList(decoder.step(List.of(new Decoder.Chunk(s, chunk, true))).getFirst()));
        }
        return rows.toArray(float[][]::new);
    }

    @Test
    void f32EngineReproducesGoldenLogitsOfEveryWeightFile() throws IOException {
        for (String model : List.of("tiny-llama", "stories260k")) {
            Golden golden = Golden.of(model);
            for (String file : golden.weightFiles()) {
                try (Decoder decoder = load(model, file, QuantRule.uniform(WeightFormat.F32), 2)) {
                    // Whole prompt in one chunk, then in chunks of 5 (chunked prefill must not change anything).
                    for (int chunk : new int[] {golden.tokens().length, 5}) {
                        double diff = Golden.maxAbsDiff(golden.logits(file), allLogits(decoder, golden.tokens(), chunk));
                        assertTrue(diff <= GOLDEN_TOLERANCE, model + "/" + file + " chunk " + chunk + ": max |Δ| " + diff);
                    }
                }
            }
        }
    }

    @Test
    void f16WeightsKeptInPlaceMatchTheirGolden() throws IOException {
        // F16 stored, F16 engine format: no conversion at all, the kernel widens exactly, so the same 1e-4 holds.
        Golden golden = Golden.of("tiny-llama");
        try (Decoder decoder = load("tiny-llama", "model.f16.safetensors", QuantRule.uniform(WeightFormat.F16), 1)) {
            double diff = Golden.maxAbsDiff(golden.logits("model.f16.safetensors"), allLogits(decoder, golden.tokens(), 7));
            assertTrue(diff <= GOLDEN_TOLERANCE, "max |Δ| " + diff);
        }
    }

    /**
     * GPT-2 in the engine (LayerNorm, GELU tanh, learned positions, Conv1D weights transposed at load, head tied to
     * wte) meets the same 1e-4 as Llama on every weights file of tiny-gpt2, prompt in one chunk and in chunks of 5.
     */
    @Test
    void gpt2F32ReproducesGoldenLogitsOfEveryWeightFile() throws IOException {
        Golden golden = Golden.of("tiny-gpt2");
        for (String file : golden.weightFiles()) {
            try (Decoder decoder = load("tiny-gpt2", file, QuantRule.uniform(WeightFormat.F32), 2)) {
                for (int chunk : new int[] {golden.tokens().length, 5}) {
                    double diff = Golden.maxAbsDiff(golden.logits(file), allLogits(decoder, golden.tokens(), chunk));
                    assertTrue(diff <= GOLDEN_TOLERANCE, "tiny-gpt2/" + file + " chunk " + chunk + ": max |Δ| " + diff);
                }
            }
        }
    }

    /** GPT-2 quantized: Q8_0 close to the golden logits (a random 64-wide model; bound as for stories260k below). */
    @Test
    void gpt2QuantizedStaysClose() throws IOException {
        Golden golden = Golden.of("tiny-gpt2");
        try (Decoder decoder = load("tiny-gpt2", "model.safetensors", QuantRule.MIXED, 1)) {
            double diff = Golden.maxAbsDiff(golden.logits("model.safetensors"), allLogits(decoder, golden.tokens(), 24));
            System.out.printf("tiny-gpt2 mixed: max |logit error| %.4f%n", diff);
            assertTrue(diff > 0 && diff < 1.0, "max |Δ| " + diff); // measured 0.36
        }
    }

    @Test
    void stories260kGreedyGenerationEqualsGolden() throws IOException {
        JsonNode cases = new ObjectMapper().readTree(Golden.dir("stories260k").resolve("golden_generate.json").toFile())
                .get("cases");
        try (Decoder decoder = load("stories260k", "model.safetensors", QuantRule.uniform(WeightFormat.F32), 2)) {
            for (JsonNode c : cases) {
                int[] prompt = Golden.ints(c.get("prompt_ids"));
                int[] expected = Golden.ints(c.get("ids"));
                Sequence s = decoder.newSequence();
                float[] logits = decoder.prefill(s, prompt, 8);
                int[] got = new int[expected.length];
                for (int i = 0; i < got.length; i++) {
                    got[i] = Sampler.argmax(logits);
                    logits = decoder.step(List.of(Decoder.Chunk.next(s, got[i]))).getFirst()[0];
                }
                assertArrayEquals(expected, got, "prompt of " + prompt.length + " tokens");
            }
        }
    }

    @Test
    void quantizedLogitsStayCloseToGolden() throws IOException {
        // Q8_0 rounds each weight to 1/254 of its block's range, Q4_0 to 1/16: errors grow with depth and |logit|.
        // stories260k's logits span about ±20; the bounds below (measured errors are printed) are generous ceilings
        // that still catch a broken kernel or layout, which puts logits off by whole units everywhere.
        Golden golden = Golden.of("stories260k");
        float[][] expected = golden.logits("model.safetensors");
        // Measured: Q8_0 0.23 and Q4_0 4.5 (a 64-wide model has few weights per dot to average rounding out), top-1
        // equal at 24/24 positions for both.
        for (var c : List.of(new Object[] {WeightFormat.Q8_0, 0.5, 23}, new Object[] {WeightFormat.Q4_0, 8.0, 20})) {
            WeightFormat f = (WeightFormat) c[0];
            try (Decoder decoder = load("stories260k", "model.safetensors", QuantRule.uniform(f), 2)) {
                float[][] got = allLogits(decoder, golden.tokens(), 24);
                double diff = Golden.maxAbsDiff(expected, got);
                int agree = 0;
                for (int i = 0; i < got.length; i++) {
                    agree += Sampler.argmax(got[i]) == Sampler.argmax(expected[i]) ? 1 : 0;
                }
                System.out.printf("stories260k %s: max |logit error| %.4f, top-1 agrees at %d/%d positions%n", f, diff,
                        agree, got.length);
                assertTrue(diff < (double) c[1], f + ": max |Δ| " + diff);
                assertTrue(agree >= (int) c[2], f + ": top-1 agrees at only " + agree + " positions");
            }
        }
    }

    @Test
    void batchedDecodeEqualsSeparateDecodes() throws IOException {
        int[][] prompts = {{1, 403, 407, 261}, {1, 300}, {1, 50, 60, 70, 80, 90, 100}};
        int steps = 6;
        for (QuantRule rule : List.of(QuantRule.uniform(WeightFormat.F32), QuantRule.MIXED)) {
            try (Decoder decoder = load("stories260k", "model.safetensors", rule, 2)) {
                int[][] alone = new int[prompts.length][steps];
                float[][][] aloneLogits = new float[prompts.length][steps][];
                for (int i = 0; i < prompts.length; i++) {
                    Sequence s = decoder.newSequence();
                    float[] logits = decoder.prefill(s, prompts[i], 16);
                    for (int k = 0; k < steps; k++) {
                        alone[i][k] = Sampler.argmax(logits);
                        aloneLogits[i][k] = logits;
                        logits = decoder.step(List.of(Decoder.Chunk.next(s, alone[i][k]))).getFirst()[0];
                    }
                }
                // Together: the third sequence joins a step late and prefills while the others decode.
                Sequence[] seqs = new Sequence[prompts.length];
                float[][] last = new float[prompts.length][];
                int[] produced = new int[prompts.length];
                for (int round = 0; produced[0] < steps || produced[2] < steps; round++) {
                    List<Decoder.Chunk> chunks = new ArrayList<>();
                    List<Integer> who = new ArrayList<>();
                    for (int i = 0; i < prompts.length; i++) {
                        if (i == 2 && round == 0 || produced[i] >= steps) {
                            continue;
                        }
                        if (seqs[i] == null) {
                            seqs[i] = decoder.newSequence();
                            chunks.add(new Decoder.Chunk(seqs[i], prompts[i], false));
                        } else {
                            int next = Sampler.argmax(last[i]);
                            assertEquals(alone[i][produced[i]], next, "sequence " + i + " token " + produced[i]);
                            // Batched rows go through the four-at-a-time kernels: same math, other summation order.
                            assertEquals(0, Golden.maxAbsDiff(new float[][] {aloneLogits[i][produced[i]]},
                                    new float[][] {last[i]}), 1e-4, "sequence " + i + " logits");
                            produced[i]++;
                            chunks.add(Decoder.Chunk.next(seqs[i], next));
                        }
                        who.add(i);
                    }
                    List<float[][]> out = decoder.step(chunks);
                    for (int j = 0; j < who.size(); j++) {
                        last[who.get(j)] = out.get(j)[0];
                    }
                }
                assertEquals(steps, produced[1]);
            }
        }
    }

    @Test
    void badStepsAreRejectedWithTheReason() throws IOException {
        try (Decoder decoder = load("tiny-llama", "model.safetensors", QuantRule.uniform(WeightFormat.F32), 1)) {
            Sequence s = decoder.newSequence();
            var vocab = assertThrows(IllegalArgumentException.class,
                    () -> decoder.step(List.of(Decoder.Chunk.next(s, 256))));
            assertEquals("token id 256 is outside the vocabulary of 256", vocab.getMessage());
            var twice = assertThrows(IllegalArgumentException.class,
                    () -> decoder.step(List.of(Decoder.Chunk.next(s, 1), Decoder.Chunk.next(s, 2))));
            assertEquals("a sequence appears twice in one step", twice.getMessage());
            var context = assertThrows(IllegalArgumentException.class,
                    () -> decoder.prefill(s, new int[129], 256));
            assertEquals("sequence of 129 positions exceeds the model's context of 128", context.getMessage());
            assertEquals(0, s.length());
        }
    }
}
