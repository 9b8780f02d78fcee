package io.emend.bench.engine;

import io.emend.core.infer.ComputePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.function.LongSupplier;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming-read bandwidth, the ceiling of batch-1 decode: every thread sums its share of a 1 GiB off-heap segment
 * with the widest vector loads, reading {@link #STREAMS} sequential streams at once (its share cut in that many
 * parts) into two accumulators each, so that neither one prefetch stream nor one add chain limits it.
 *
 * <p>The species is a {@code static final} constant and the loop a static method: the Vector API only compiles to
 * SIMD where the species is a JIT-time constant, and a species captured by a lambda is not one (an earlier version of
 * this loop did that, ran as boxed Java, and "measured" 3-7 GB/s).
 */
final class ReadBandwidth {

    private static final VectorSpecies<Long> SPECIES = LongVector.SPECIES_PREFERRED;
    /** Sequential streams per thread. */
    static final int STREAMS = 4;
    private static final long BYTES = 1L << 30;

    private ReadBandwidth() {
    }

    /** Best of {@code passes} (after one untimed) in bytes/second. */
    static double measure(int threads, int passes) {
        try (Arena arena = Arena.ofShared(); ComputePool pool = new ComputePool(threads)) {
            MemorySegment seg = arena.allocate(BYTES, 4096);
            seg.fill((byte) 1);
            long[] sums = new long[threads * 16]; // one cache line per thread
            double best = 0;
            for (int pass = -1; pass < passes; pass++) {
                long t0 = System.nanoTime();
                pool.run(threads, (from, to) -> {
                    for (int share = from; share < to; share++) {
                        long lo = BYTES * share / threads;
                        long hi = BYTES * (share + 1) / threads;
                        sums[share * 16] += sum(seg, lo, hi);
                    }
                });
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (pass >= 0) {
                    best = Math.max(best, BYTES / seconds);
                }
            }
            long total = 0;
            for (long s : sums) {
                total += s;
            }
            // Each pass reads every byte (all 0x01) once: the sums check that nothing was skipped.
            if (total != (passes + 1) * (BYTES / Long.BYTES) * 0x0101010101010101L) {
                throw new IllegalStateException("bandwidth loop read the wrong bytes: " + total);
            }
            return best;
        }
    }

    /**
     * One thread's bandwidth, on the calling thread, timed by {@code clock} (nanoseconds: the thread's CPU time where
     * the machine is shared, so that descheduling does not count); best of {@code passes} after one untimed.
     */
    static double measureOnCaller(int passes, LongSupplier clock) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(BYTES, 4096);
            seg.fill((byte) 1);
            long total = 0;
            double best = 0;
            for (int pass = -1; pass < passes; pass++) {
                long t0 = clock.getAsLong();
                total += sum(seg, 0, BYTES);
                double seconds = (clock.getAsLong() - t0) / 1e9;
                if (pass >= 0) {
                    best = Math.max(best, BYTES / seconds);
                }
            }
            if (total != (passes + 1) * (BYTES / Long.BYTES) * 0x0101010101010101L) {
                throw new IllegalStateException("bandwidth loop read the wrong bytes: " + total);
            }
            return best;
        }
    }

    /** Sum of {@code [lo, hi)} as longs, {@link #STREAMS} streams at once ({@code hi - lo} a multiple of 4 KiB). */
    static long sum(MemorySegment seg, long lo, long hi) {
        long part = (hi - lo) / STREAMS;
        long step = SPECIES.vectorByteSize();
        long s0 = lo;
        long s1 = lo + part;
        long s2 = lo + 2 * part;
        long s3 = lo + 3 * part;
        LongVector a0 = LongVector.zero(SPECIES);
        LongVector a1 = LongVector.zero(SPECIES);
        LongVector b0 = LongVector.zero(SPECIES);
        LongVector b1 = LongVector.zero(SPECIES);
        LongVector c0 = LongVector.zero(SPECIES);
        LongVector c1 = LongVector.zero(SPECIES);
        LongVector d0 = LongVector.zero(SPECIES);
        LongVector d1 = LongVector.zero(SPECIES);
        for (long i = 0; i < part; i += 2 * step) {
            a0 = a0.add(LongVector.fromMemorySegment(SPECIES, seg, s0 + i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(SPECIES, seg, s0 + i + step, ByteOrder.LITTLE_ENDIAN));
            b0 = b0.add(LongVector.fromMemorySegment(SPECIES, seg, s1 + i, ByteOrder.LITTLE_ENDIAN));
            b1 = b1.add(LongVector.fromMemorySegment(SPECIES, seg, s1 + i + step, ByteOrder.LITTLE_ENDIAN));
            c0 = c0.add(LongVector.fromMemorySegment(SPECIES, seg, s2 + i, ByteOrder.LITTLE_ENDIAN));
            c1 = c1.add(LongVector.fromMemorySegment(SPECIES, seg, s2 + i + step, ByteOrder.LITTLE_ENDIAN));
            d0 = d0.add(LongVector.fromMemorySegment(SPECIES, seg, s3 + i, ByteOrder.LITTLE_ENDIAN));
            d1 = d1.add(LongVector.fromMemorySegment(SPECIES, seg, s3 + i + step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(b0.add(b1)).add(c0.add(c1).add(d0.add(d1))).reduceLanes(VectorOperators.ADD);
    }
}
