package io.emend.core.merge;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SparsifierTest {

    private static final TensorParameters NONE = TensorParameters.of(Map.of());

    private static float[] applyInChunks(Sparsifier.Mask mask, float[] values, int chunk) {
        float[] out = values.clone();
        for (int from = 0; from < out.length; from += chunk) {
            int len = Math.min(chunk, out.length - from);
            float[] part = Arrays.copyOfRange(out, from, from + len);
            mask.apply(from, part, len);
            System.arraycopy(part, 0, out, from, len);
        }
        return out;
    }

    @Test
    void magnitudeKeepsExactlyTheLargestFractionAgainstASortReference() {
        Random r = new Random(7);
        float[] v = Merges.random(r, 10_007);
        for (double density : new double[] {0.01, 0.2, 0.5, 0.93}) {
            float[] kept = applyInChunks(new Sparsifier.Magnitude().prepare(TensorView.of(v, "v"), density, NONE, 0), v, 1000);
            long k = (long) Math.floor(density * v.length);
            float[] mags = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                mags[i] = Math.abs(v[i]);
            }
            Arrays.sort(mags);
            float threshold = mags[v.length - (int) k];
            long count = 0;
            for (int i = 0; i < v.length; i++) {
                if (kept[i] != 0) {
                    count++;
                    assertEquals(v[i], kept[i], 0f);
                    assertEquals(true, Math.abs(v[i]) >= threshold);
                }
            }
            assertEquals(k, count, "density " + density);
        }
    }

    @Test
    void magnitudeBreaksTiesInIndexOrder() {
        float[] v = {1, -1, 1, 1, -1, 0.5f};
        float[] kept = applyInChunks(new Sparsifier.Magnitude().prepare(TensorView.of(v, "v"), 0.5, NONE, 0), v, 2);
        assertArrayEquals(new float[] {1, -1, 1, 0, 0, 0}, kept, 0f);
    }

    @Test
    void densityZeroAndOneAreNothingAndEverything() {
        float[] v = {1, -2, 3};
        assertArrayEquals(new float[3], applyInChunks(new Sparsifier.Magnitude().prepare(TensorView.of(v, "v"), 0, NONE, 0), v, 3), 0f);
        assertArrayEquals(v, applyInChunks(new Sparsifier.RandomDrop().prepare(TensorView.of(v, "v"), 1,
                TensorParameters.of(Map.of("rescale", 1.0)), 0), v, 3), 0f);
    }

    @Test
    void randomDropWithoutRescaleKeepsValuesUnchanged() {
        float[] v = Merges.random(new Random(8), 5000);
        float[] kept = applyInChunks(new Sparsifier.RandomDrop().prepare(TensorView.of(v, "v"), 0.5,
                TensorParameters.of(Map.of("rescale", 0.0)), 9), v, 777);
        int count = 0;
        for (int i = 0; i < v.length; i++) {
            if (kept[i] != 0) {
                count++;
                assertEquals(v[i], kept[i], 0f);
            }
        }
        // Binomial(5000, 0.5): σ ≈ 35, so ±250 is ~7σ.
        assertEquals(2500, count, 250);
    }

    /**
     * DARE's mask is a function of the element's index: applied to ranges in any order and any chunking it gives the
     * bits of the definition it replaced, one {@link SplittableRandom} draw per element consumed in element order
     * (so merges recorded before the change reproduce).
     */
    @Test
    void randomDropMatchesTheInOrderStreamWhateverTheSplit() {
        float[] v = Merges.random(new Random(10), 20_011);
        long seed = 0x5EEDL;
        double density = 0.3;
        SplittableRandom stream = new SplittableRandom(seed);
        float[] expected = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            expected[i] = stream.nextDouble() < density ? (float) (v[i] * (1.0 / density)) : 0f;
        }
        Sparsifier.Mask mask = new Sparsifier.RandomDrop().prepare(TensorView.of(v, "v"), density,
                TensorParameters.of(Map.of("rescale", 1.0)), seed);
        float[] out = v.clone();
        // ranges back to front, chunks of odd sizes inside each
        int[] bounds = {0, 1, 4_999, 5_000, 13_333, v.length};
        for (int r = bounds.length - 2; r >= 0; r--) {
            for (int from = bounds[r]; from < bounds[r + 1]; from += 777) {
                int len = Math.min(777, bounds[r + 1] - from);
                float[] part = Arrays.copyOfRange(out, from, from + len);
                mask.apply(from, part, len);
                System.arraycopy(part, 0, out, from, len);
            }
        }
        assertArrayEquals(expected, out, 0f);
        assertEquals(true, new Sparsifier.RandomDrop().elementwise());
        assertEquals(false, new Sparsifier.Magnitude().elementwise());
    }

    /**
     * TIES' trim kernel at every width against its definition: magnitudes drawn from few values so that elements
     * equal to the threshold fall in vector bodies and tails, budgets for equal elements from none to all, chunks of
     * odd sizes: the same elements kept, in the same (index) order.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void trimVectorEqualsScalar(int bits) {
        VectorSpecies<Float> species = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        Random r = new Random(bits);
        float[] v = new float[3001];
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextBoolean() ? 1 : -1) * (1 + r.nextInt(8)) * 0.25f;
        }
        int threshold = Float.floatToRawIntBits(1.0f);
        for (long budget : new long[] {0, 1, 17, 200, 5000}) {
            Sparsifier.Magnitude.Trim scalar = new Sparsifier.Magnitude.Trim(threshold, budget);
            Sparsifier.Magnitude.Trim vector = new Sparsifier.Magnitude.Trim(threshold, budget);
            float[] a = v.clone();
            float[] b = v.clone();
            for (int from = 0; from < v.length; from += 97) {
                int len = Math.min(97, v.length - from);
                float[] pa = Arrays.copyOfRange(a, from, from + len);
                float[] pb = Arrays.copyOfRange(b, from, from + len);
                scalar.applyScalar(pa, 0, len);
                vector.applyVector(species, pb, len);
                System.arraycopy(pa, 0, a, from, len);
                System.arraycopy(pb, 0, b, from, len);
            }
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "budget " + budget + " at " + i);
            }
        }
    }

    /**
     * DARE's drop kernel at every width against its definition: starts that are not multiples of any lane count,
     * every tail length, densities from rare to common keeps, with and without rescale.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void dropVectorEqualsScalar(int bits) {
        VectorSpecies<Double> wide = WeightedSum.wide(VectorSpecies.of(float.class, VectorShape.forBitSize(bits)));
        VectorSpecies<Float> half = VectorSpecies.of(float.class, VectorShape.forBitSize(bits / 2));
        Random r = new Random(bits);
        for (int len = 0; len <= 41; len++) {
            float[] v = Merges.random(r, len + 2);
            for (double density : new double[] {0.05, 0.5, 0.9}) {
                for (double scale : new double[] {1.0, 1 / density}) {
                    long from = r.nextInt(1_000_000);
                    float[] a = v.clone();
                    float[] b = v.clone();
                    Sparsifier.RandomDrop.dropScalar(77, density, scale, from, a, len);
                    Sparsifier.RandomDrop.dropVector(half, wide, wide.withLanes(long.class), 77, density, scale, from,
                            b, len);
                    assertArrayEquals(a, b, 0f, "len " + len + ", density " + density + ", from " + from);
                }
            }
        }
    }
}
