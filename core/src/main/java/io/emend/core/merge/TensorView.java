package io.emend.core.merge;

import io.emend.core.tensor.DType;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.tensor.HalfFloat;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One input tensor, read in chunks as F32 so that a merge never needs the whole tensor on the heap.
 * Reading rejects NaN and infinity with the tensor and model named: a non-finite weight poisons every method
 * (sums, magnitudes, angles) and is never what a user meant to merge.
 */
public sealed interface TensorView {

    /** Number of elements. */
    long elements();

    /** Widens elements {@code [from, from + len)} into {@code dst[0, len)}. */
    void read(long from, float[] dst, int len);

    /** A view over stored little-endian bytes (typically a memory-mapped safetensors slice). */
    static TensorView of(MemorySegment stored, DType dtype, String label) {
        return new Stored(stored, dtype, label);
    }

    /** A view over heap values (tests, small tensors). */
    static TensorView of(float[] values, String label) {
        return new Heap(values, label);
    }

    /** {@code minuend − subtrahend}, element by element: a model's delta from its base. */
    static TensorView difference(TensorView minuend, TensorView subtrahend) {
        return new Difference(minuend, subtrahend);
    }

    private static void checkFinite(float v, long index, String label) {
        if (!Float.isFinite(v)) {
            throw new MergeException(label + " has a non-finite value (" + v + ") at element " + index);
        }
    }

    /**
     * Stored little-endian elements. 16-bit elements are bulk-copied into a scratch array, checked for finiteness
     * there by a vector kernel ({@link Finiteness}) and widened by a loop the JIT turns into vector conversions;
     * the scratch makes a view unsafe to share between threads.
     */
    final class Stored implements TensorView {
        private static final ValueLayout.OfFloat F32_LE =
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16_LE =
                ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        /** Ints of the kernel width, and shorts of the same lane count, for the BF16 kernel; null: scalar. */
        private static final VectorSpecies<Integer> INTS = KernelSpecies.FLOAT == null ? null
                : KernelSpecies.FLOAT.withLanes(int.class);
        private static final VectorSpecies<Short> HALVES = INTS == null ? null
                : VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));

        private final MemorySegment stored;
        private final DType dtype;
        private final String label;
        private short[] scratch = new short[0];

        Stored(MemorySegment stored, DType dtype, String label) {
            this.stored = stored;
            this.dtype = dtype;
            this.label = label;
        }

        public DType dtype() {
            return dtype;
        }

        @Override
        public long elements() {
            return stored.byteSize() / dtype.bytes();
        }

        @Override
        public void read(long from, float[] dst, int len) {
            boolean finite;
            if (dtype == DType.F32) {
                MemorySegment.copy(stored, F32_LE, from * 4, dst, 0, len);
                finite = Finiteness.all(dst, len);
            } else {
                if (scratch.length < len) {
                    scratch = new short[len];
                }
                MemorySegment.copy(stored, U16_LE, from * 2, scratch, 0, len);
                // checked on the stored bits before widening: the same verdict, on half the bytes
                if (dtype == DType.F16) {
                    finite = Finiteness.all(scratch, len, Finiteness.F16_EXPONENT);
                    HalfFloat.f16ToFloat(scratch, dst, len);
                } else {
                    finite = Finiteness.all(scratch, len, Finiteness.BF16_EXPONENT);
                    if (INTS == null) {
                        HalfFloat.bf16ToFloat(scratch, dst, len);
                    } else {
                        HalfFloat.bf16ToFloatVector(HALVES, INTS, scratch, dst, len);
                    }
                }
            }
            if (!finite) {
                for (int i = 0; i < len; i++) {
                    checkFinite(dst[i], from + i, label);
                }
            }
        }
    }

    record Heap(float[] values, String label) implements TensorView {
        @Override
        public long elements() {
            return values.length;
        }

        @Override
        public void read(long from, float[] dst, int len) {
            System.arraycopy(values, Math.toIntExact(from), dst, 0, len);
            if (!Finiteness.all(dst, len)) {
                for (int i = 0; i < len; i++) {
                    checkFinite(dst[i], from + i, label);
                }
            }
        }
    }

    /** A delta computed on the fly; its scratch buffer makes it unsafe to share between threads. */
    final class Difference implements TensorView {
        private final TensorView minuend;
        private final TensorView subtrahend;
        private float[] scratch = new float[0];

        Difference(TensorView minuend, TensorView subtrahend) {
            if (minuend.elements() != subtrahend.elements()) {
                throw new IllegalArgumentException("a difference needs equal sizes, got " + minuend.elements()
                        + " and " + subtrahend.elements());
            }
            this.minuend = minuend;
            this.subtrahend = subtrahend;
        }

        @Override
        public long elements() {
            return minuend.elements();
        }

        @Override
        public void read(long from, float[] dst, int len) {
            if (scratch.length < len) {
                scratch = new float[len];
            }
            minuend.read(from, dst, len);
            subtrahend.read(from, scratch, len);
            for (int i = 0; i < len; i++) {
                dst[i] -= scratch[i];
            }
        }
    }
}
