package io.emend.core.merge;

import io.emend.core.quant.KernelSpecies;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Zeroes part of a task vector (a model's delta from the base) before task arithmetic combines it, so that the
 * small or redundant changes of one model stop interfering with the others.
 * {@code density} is the fraction kept, in [0, 1].
 */
public sealed interface Sparsifier {

    /** The parameters this sparsifier adds to its method. */
    List<Parameter> parameters();

    /**
     * Prepares the mask of one delta tensor; may read the whole delta (in chunks) first.
     *
     * @param delta   the model's delta from the base
     * @param density fraction of elements kept
     * @param global  the method's global parameters
     * @param seed    the seed of this (tensor, model) pair, for random sparsifiers
     */
    Mask prepare(TensorView delta, double density, TensorParameters global, long seed);

    /**
     * Whether the mask of an element depends on that element and its index only, so that disjoint ranges of a
     * tensor may be masked apart (on several threads) with the same result; otherwise the mask must see the whole
     * delta and be applied to consecutive chunks in order.
     */
    boolean elementwise();

    /**
     * Applies the mask to the delta's elements {@code [from, from + len)}, held in {@code delta[0, len)}, in place.
     * {@code from} is the index in the whole tensor; a mask that is not {@link #elementwise()} must get consecutive
     * chunks in order.
     */
    @FunctionalInterface
    interface Mask {
        void apply(long from, float[] delta, int len);

        Mask KEEP_ALL = (from, delta, len) -> {
        };
        Mask DROP_ALL = (from, delta, len) -> java.util.Arrays.fill(delta, 0, len, 0f);
    }

    /**
     * TIES' trim step (Yadav et al., 2023): keeps the {@code ⌊density·n⌋} elements of largest magnitude.
     * The threshold is found exactly by a two-pass radix selection over the bit patterns of |δ| (non-negative
     * floats order like their bits), so the tensor is never sorted or held whole. Elements equal to the threshold
     * are kept in index order until the count is reached, which makes the result deterministic.
     */
    record Magnitude() implements Sparsifier {

        private static final int BINS = 1 << 16;
        private static final List<Parameter> PARAMETERS =
                List.of(Parameter.number("density", Parameter.Scope.PER_MODEL, 1.0));

        @Override
        public List<Parameter> parameters() {
            return PARAMETERS;
        }

        @Override
        public boolean elementwise() {
            return false;
        }

        @Override
        public Mask prepare(TensorView delta, double density, TensorParameters global, long seed) {
            long n = delta.elements();
            long keep = (long) Math.floor(density * n);
            if (keep >= n) {
                return Mask.KEEP_ALL;
            }
            if (keep <= 0) {
                return Mask.DROP_ALL;
            }
            int chunk = (int) Math.min(TensorMerge.DEFAULT_CHUNK, n);
            float[] buf = new float[chunk];
            long[] high = new long[BINS];
            for (long from = 0; from < n; from += chunk) {
                int len = (int) Math.min(chunk, n - from);
                delta.read(from, buf, len);
                for (int i = 0; i < len; i++) {
                    high[magnitudeBits(buf[i]) >>> 16]++;
                }
            }
            long above = 0;
            int hi = BINS - 1;
            while (above + high[hi] < keep) {
                above += high[hi];
                hi--;
            }
            long[] low = new long[BINS];
            for (long from = 0; from < n; from += chunk) {
                int len = (int) Math.min(chunk, n - from);
                delta.read(from, buf, len);
                for (int i = 0; i < len; i++) {
                    int bits = magnitudeBits(buf[i]);
                    if (bits >>> 16 == hi) {
                        low[bits & 0xFFFF]++;
                    }
                }
            }
            int lo = BINS - 1;
            while (above + low[lo] < keep) {
                above += low[lo];
                lo--;
            }
            int threshold = (hi << 16) | lo;
            return new Trim(threshold, keep - above);
        }

        /**
         * Keeps the elements whose magnitude bits exceed {@code threshold}, and the first {@code equalToKeep} equal
         * to it in index order; zeroes the rest. Stateful (the equal ones kept so far): chunks must come in order.
         */
        static final class Trim implements Mask {
            private static final VectorSpecies<Float> SPECIES = KernelSpecies.FLOAT;

            private final int threshold;
            private final long equalToKeep;
            private long equalKept;

            Trim(int threshold, long equalToKeep) {
                this.threshold = threshold;
                this.equalToKeep = equalToKeep;
            }

            @Override
            public void apply(long from, float[] d, int len) {
                if (SPECIES == null) {
                    applyScalar(d, 0, len);
                } else {
                    applyVector(SPECIES, d, len);
                }
            }

            /** The definition, over {@code d[start, end)}. */
            void applyScalar(float[] d, int start, int end) {
                for (int i = start; i < end; i++) {
                    int bits = magnitudeBits(d[i]);
                    if (bits > threshold) {
                        continue;
                    }
                    if (bits == threshold && equalKept < equalToKeep) {
                        equalKept++;
                        continue;
                    }
                    d[i] = 0f;
                }
            }

            /**
             * Whole vectors select with a lane mask (the scalar branch on random magnitudes is mispredicted often);
             * a vector holding an element equal to the threshold, rare, goes through the definition so that equal
             * elements are still counted in index order. Then the scalar tail.
             */
            void applyVector(VectorSpecies<Float> species, float[] d, int len) {
                int upper = species.loopBound(len);
                int i = 0;
                for (; i < upper; i += species.length()) {
                    FloatVector v = FloatVector.fromArray(species, d, i);
                    IntVector bits = v.reinterpretAsInts().and(0x7FFF_FFFF);
                    if (bits.compare(VectorOperators.EQ, threshold).anyTrue()) {
                        applyScalar(d, i, i + species.length());
                    } else {
                        VectorMask<Float> drop = bits.compare(VectorOperators.LT, threshold).cast(species);
                        v.blend(0f, drop).intoArray(d, i);
                    }
                }
                applyScalar(d, i, len);
            }
        }

        private static int magnitudeBits(float v) {
            return Float.floatToRawIntBits(v) & 0x7FFF_FFFF;
        }
    }

    /**
     * DARE's drop-and-rescale (Yu et al., 2024): each element is kept with probability {@code density} and, with
     * {@code rescale}, divided by it, so the expected delta is unchanged. Element {@code i}'s draw is the
     * {@code (i+1)}-th {@code nextDouble} of a {@link SplittableRandom} seeded per (recipe seed, tensor, model),
     * computed from the index (SplittableRandom is a counter, {@code seed + (i+1)·γ}, through a
     * mixing function) rather than by consuming the stream in order. Results are the same bits as the earlier
     * in-order stream, a merge is reproducible bit for bit, and ranges of a tensor can be masked on different
     * threads.
     */
    record RandomDrop() implements Sparsifier {

        /** SplittableRandom's default increment (the odd integer nearest 2^64 divided by the golden ratio). */
        static final long GOLDEN_GAMMA = 0x9E37_79B9_7F4A_7C15L;
        /** Doubles of the kernel width, longs and floats of the same lane count (constants; null: scalar). */
        private static final VectorSpecies<Double> WIDE = KernelSpecies.FLOAT == null ? null
                : WeightedSum.wide(KernelSpecies.FLOAT);
        private static final VectorSpecies<Long> LONGS = WIDE == null ? null : WIDE.withLanes(long.class);
        private static final VectorSpecies<Float> HALF = WIDE == null ? null
                : VectorSpecies.of(float.class, VectorShape.forBitSize(WIDE.vectorBitSize() / 2));

        private static final List<Parameter> PARAMETERS = List.of(
                Parameter.number("density", Parameter.Scope.PER_MODEL, 1.0),
                Parameter.flag("rescale", true));

        @Override
        public List<Parameter> parameters() {
            return PARAMETERS;
        }

        @Override
        public Mask prepare(TensorView delta, double density, TensorParameters global, long seed) {
            if (density >= 1) {
                return Mask.KEEP_ALL;
            }
            if (density <= 0) {
                return Mask.DROP_ALL;
            }
            double scale = global.flag("rescale") ? 1.0 / density : 1.0;
            return (from, d, len) -> {
                if (WIDE == null) {
                    dropScalar(seed, density, scale, from, d, len);
                } else {
                    dropVector(HALF, WIDE, LONGS, seed, density, scale, from, d, len);
                }
            };
        }

        /** The definition: element {@code from + i} kept (and scaled) when its draw is below {@code density}. */
        static void dropScalar(long seed, double density, double scale, long from, float[] d, int len) {
            // the counter of element from+i, advanced by γ per element instead of recomputed
            long counter = seed + (from + 1) * GOLDEN_GAMMA;
            for (int i = 0; i < len; i++) {
                d[i] = unit(counter) < density ? (float) (d[i] * scale) : 0f;
                counter += GOLDEN_GAMMA;
            }
        }

        /**
         * The same draws in vector lanes: a vector of counters {@code c + lane·γ} advanced by {@code lanes·γ}, mixed
         * with the same shifts and multiplies, and the keep decision made with a lane mask (the scalar branch on a
         * coin flip is mispredicted half the time) on the draw's 53 bits as an integer. {@code half} (floats), {@code wide} (doubles) and {@code longs}
         * have one lane count.
         */
        static void dropVector(VectorSpecies<Float> half, VectorSpecies<Double> wide, VectorSpecies<Long> longs,
                               long seed, double density, double scale, long from, float[] d, int len) {
            int lanes = half.length();
            long counter = seed + (from + 1) * GOLDEN_GAMMA;
            LongVector counters = LongVector.zero(longs).addIndex(1).mul(GOLDEN_GAMMA).add(counter);
            long step = lanes * GOLDEN_GAMMA;
            // n·2^-53 < density exactly when the integer n is below ⌈density·2^53⌉ (both sides exact): comparing the
            // 53 drawn bits as longs skips a long-to-double conversion that AVX2 lacks (it boxed every vector there)
            long keepBelow = (long) Math.ceil(density * 0x1.0p53);
            int upper = half.loopBound(len);
            int i = 0;
            for (; i < upper; i += lanes) {
                LongVector z = counters;
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58_476D_1CE4_E5B9L);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D0_49BB_1331_11EBL);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
                VectorMask<Float> drop = z.lanewise(VectorOperators.LSHR, 11)
                        .compare(VectorOperators.GE, keepBelow).cast(half);
                FloatVector v = FloatVector.fromArray(half, d, i);
                DoubleVector scaled = ((DoubleVector) v.convertShape(VectorOperators.F2D, wide, 0)).mul(scale);
                ((FloatVector) scaled.convertShape(VectorOperators.D2F, half, 0)).blend(0f, drop).intoArray(d, i);
                counters = counters.add(step);
            }
            counter += (long) i * GOLDEN_GAMMA;
            for (; i < len; i++) {
                d[i] = unit(counter) < density ? (float) (d[i] * scale) : 0f;
                counter += GOLDEN_GAMMA;
            }
        }

        @Override
        public boolean elementwise() {
            return true;
        }

        /** SplittableRandom's nextDouble for one counter value: the top 53 bits of the mixed counter, in [0, 1). */
        private static double unit(long counter) {
            long z = counter;
            z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
            z = z ^ (z >>> 31);
            return (z >>> 11) * 0x1.0p-53;
        }
    }
}
