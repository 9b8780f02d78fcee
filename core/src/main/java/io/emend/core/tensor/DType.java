package io.emend.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element types of dense tensors as the safetensors header spells them.
 * Quantized block formats (Q8_0, Q4_0) are not dtypes of this kind; they live in {@code io.emend.core.quant}.
 */
public enum DType {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype for a safetensors header string, or empty when Emend does not read it. */
    public static java.util.Optional<DType> fromHeader(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return java.util.Optional.of(d);
            }
        }
        return java.util.Optional.empty();
    }

    /** Little-endian F32 as stored in safetensors and GGUF; unaligned because mapped data need not be 4-byte aligned. */
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Little-endian 16-bit element (F16 or BF16 bits). */
    static final ValueLayout.OfShort U16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Widens little-endian stored elements of this dtype to a new F32 heap array (exact for F16/BF16).
     *
     * @throws IllegalArgumentException when the segment is not a whole number of elements or too large for one array
     */
    public float[] toFloats(MemorySegment stored) {
        long count = stored.byteSize() / bytes;
        if (count * bytes != stored.byteSize()) {
            throw new IllegalArgumentException(stored.byteSize() + " bytes are not a whole number of " + this + " elements");
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(count + " elements do not fit one Java array; read the tensor in slices");
        }
        return switch (this) {
            case F32 -> stored.toArray(F32_LE);
            case F16 -> {
                float[] out = new float[(int) count];
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloat.f16ToFloat(stored.getAtIndex(U16_LE, i));
                }
                yield out;
            }
            case BF16 -> {
                float[] out = new float[(int) count];
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloat.bf16ToFloat(stored.getAtIndex(U16_LE, i));
                }
                yield out;
            }
        };
    }

    /** Narrows F32 values to this dtype's little-endian bytes (round to nearest even for F16/BF16). */
    public byte[] fromFloats(float[] values) {
        byte[] out = new byte[Math.multiplyExact(values.length, bytes)];
        MemorySegment seg = MemorySegment.ofArray(out);
        switch (this) {
            case F32 -> {
                for (int i = 0; i < values.length; i++) {
                    seg.setAtIndex(F32_LE, i, values[i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    seg.setAtIndex(U16_LE, i, HalfFloat.floatToF16(values[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    seg.setAtIndex(U16_LE, i, HalfFloat.floatToBf16(values[i]));
                }
            }
        }
        return out;
    }
}
