package io.emend.core.merge;

import io.emend.core.tensor.DType;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.tensor.HalfFloat;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Where a merge writes its result, chunk by chunk, narrowing F32 to the output dtype (round to nearest even). */
public sealed interface TensorSink {

    /** Stores {@code src[0, len)} as elements {@code [from, from + len)}. */
    void write(long from, float[] src, int len);

    /** A sink over stored little-endian bytes of {@code dtype} (an off-heap buffer handed to the checkpoint writer). */
    static Stored of(MemorySegment stored, DType dtype) {
        return new Stored(stored, dtype);
    }

    /** A sink over a heap array (tests, small tensors). */
    static Heap of(float[] values) {
        return new Heap(values);
    }

    /** Stored little-endian elements; 16-bit results are narrowed into a scratch array and bulk-copied. */
    final class Stored implements TensorSink {
        private static final ValueLayout.OfFloat F32_LE =
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16_LE =
                ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        /** The kernel width, and shorts of the same lane count, for the BF16 kernel; null: scalar. */
        private static final VectorSpecies<Float> FLOATS = KernelSpecies.FLOAT;
        private static final VectorSpecies<Short> HALVES = FLOATS == null ? null
                : VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));

        private final MemorySegment stored;
        private final DType dtype;
        private short[] scratch = new short[0];

        Stored(MemorySegment stored, DType dtype) {
            this.stored = stored;
            this.dtype = dtype;
        }

        @Override
        public void write(long from, float[] src, int len) {
            if (dtype == DType.F32) {
                MemorySegment.copy(src, 0, stored, F32_LE, from * 4, len);
                return;
            }
            if (scratch.length < len) {
                scratch = new short[len];
            }
            if (dtype == DType.F16) {
                HalfFloat.floatToF16(src, scratch, len);
            } else if (FLOATS == null) {
                HalfFloat.floatToBf16(src, scratch, len);
            } else {
                HalfFloat.floatToBf16Vector(FLOATS, HALVES, src, scratch, len);
            }
            MemorySegment.copy(scratch, 0, stored, U16_LE, from * 2, len);
        }
    }

    record Heap(float[] values) implements TensorSink {
        @Override
        public void write(long from, float[] src, int len) {
            System.arraycopy(src, 0, values, Math.toIntExact(from), len);
        }
    }
}
