package io.emend.core.generate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {

    private static SamplingParams params(double temperature, int topK, double topP, long seed) {
        return new SamplingParams(temperature, topK, topP, seed, 16, List.of());
    }

    @Test
    void greedyTakesTheFirstLargest() {
        assertEquals(2, new Sampler(SamplingParams.greedy(1)).next(new float[] {0.1f, 3f, 3.5f, 3.5f, -1f}));
        assertEquals(0, Sampler.argmax(new float[] {7f, 7f}));
    }

    @Test
    void temperatureTopKAndTopPFollowTheirDefinitions() {
        float[] logits = {(float) Math.log(0.1), (float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.1)};
        // Temperature 1, nothing cut: the softmax itself, most likely first, ties by lower id.
        Sampler.Candidates all = new Sampler(params(1, 0, 1, 0)).distribution(logits);
        assertArrayEquals(new int[] {1, 2, 0, 3}, all.ids());
        assertArrayEquals(new double[] {0.5, 0.3, 0.1, 0.1}, all.probs(), 1e-6);
        // top-k 2 renormalises the two largest: 0.5/0.8, 0.3/0.8.
        Sampler.Candidates k2 = new Sampler(params(1, 2, 1, 0)).distribution(logits);
        assertArrayEquals(new int[] {1, 2}, k2.ids());
        assertArrayEquals(new double[] {0.625, 0.375}, k2.probs(), 1e-6);
        // top-p 0.7: 0.5 < 0.7 <= 0.5 + 0.3, so two tokens; top-p 0.5 keeps exactly one.
        assertArrayEquals(new int[] {1, 2}, new Sampler(params(1, 0, 0.7, 0)).distribution(logits).ids());
        assertArrayEquals(new int[] {1}, new Sampler(params(1, 0, 0.5, 0)).distribution(logits).ids());
        // Temperature 2 takes the square root of the odds: p ∝ sqrt(p0).
        Sampler.Candidates t2 = new Sampler(params(2, 0, 1, 0)).distribution(logits);
        double z = Math.sqrt(0.5) + Math.sqrt(0.3) + 2 * Math.sqrt(0.1);
        assertEquals(Math.sqrt(0.5) / z, t2.probs()[0], 1e-6);
        assertEquals(Math.sqrt(0.1) / z, t2.probs()[3], 1e-6);
    }

    @Test
    void drawsFollowTheDistributionAndTheSeed() {
        float[] logits = {(float) Math.log(0.2), (float) Math.log(0.5), (float) Math.log(0.3)};
        Sampler sampler = new Sampler(params(1, 0, 1, 42));
        int n = 20000;
        int[] counts = new int[3];
        for (int i = 0; i < n; i++) {
            counts[sampler.next(logits)]++;
        }
        double[] p = {0.2, 0.5, 0.3};
        for (int i = 0; i < 3; i++) {
            // Binomial standard deviation sqrt(n p (1-p)) <= 71 here; 5 sigma with a fixed seed is never flaky.
            double sigma = Math.sqrt(n * p[i] * (1 - p[i]));
            assertEquals(n * p[i], counts[i], 5 * sigma, "token " + i);
        }
        int[] a = draws(new Sampler(params(0.8, 0, 1, 7)), 50);
        int[] b = draws(new Sampler(params(0.8, 0, 1, 7)), 50);
        int[] c = draws(new Sampler(params(0.8, 0, 1, 8)), 50);
        assertArrayEquals(a, b, "same seed, same draws");
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c), "another seed, other draws");
    }

    private static int[] draws(Sampler s, int n) {
        SplittableRandom rng = new SplittableRandom(1);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            float[] logits = new float[20];
            for (int j = 0; j < logits.length; j++) {
                logits[j] = (float) rng.nextGaussian();
            }
            out[i] = s.next(logits);
        }
        return out;
    }

    @Test
    void invalidParametersNameTheField() {
        assertMessage(() -> params(-1, 0, 1, 0), "temperature");
        assertMessage(() -> params(Double.NaN, 0, 1, 0), "temperature");
        assertMessage(() -> params(1, -2, 1, 0), "top_k");
        assertMessage(() -> params(1, 0, 0, 0), "top_p");
        assertMessage(() -> params(1, 0, 1.5, 0), "top_p");
        assertMessage(() -> new SamplingParams(0, 0, 1, 0, 0, List.of()), "max_tokens");
        assertMessage(() -> new SamplingParams(0, 0, 1, 0, 5, List.of("")), "stop");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String fragment) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(fragment), x.getMessage());
    }

    @Test
    void stopSequencesCutAcrossPiecesAndHoldBackPrefixes() {
        StopSequences s = new StopSequences(List.of("END", "\n\n"));
        assertEquals("Hello ", s.offer("Hello E"), "'E' may start END");
        assertEquals("", s.offer("N"));
        assertEquals("ENt", s.offer("t"), "ENt is not END: release it");
        assertEquals("ry", s.offer("ry\n"));
        assertEquals("", s.offer("\nmore"));
        assertTrue(s.stopped());
        assertEquals("", s.offer("later"));
        assertEquals("Hello ENtry", s.text());

        StopSequences open = new StopSequences(List.of("xyz"));
        assertEquals("ab", open.offer("abxy"));
        assertEquals("xy", open.flush(), "held-back text is released at the end");
        assertEquals("abxy", open.text());
    }
}
