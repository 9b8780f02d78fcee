package io.emend.core.format.gguf;

import io.emend.core.tensor.HalfFloat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The ggml tensor types Emend reads and writes, as data: ggml's type id, values per block and bytes per block.
 * Ids are ggml's {@code enum ggml_type}; a file with any other type is rejected naming the tensor.
 */
public enum GgmlType {
    /** {@code GGML_TYPE_F32}. */
    F32(0, 1, Float.BYTES),
    /** {@code GGML_TYPE_F16}. */
    F16(1, 1, Short.BYTES),
    /** {@code GGML_TYPE_Q4_0}: {@code block_q4_0}. */
    Q4_0(2, io.emend.core.quant.Q4_0.BLOCK_SIZE, io.emend.core.quant.Q4_0.BYTES_PER_BLOCK),
    /** {@code GGML_TYPE_Q8_0}: {@code block_q8_0}. */
    Q8_0(8, io.emend.core.quant.Q8_0.BLOCK_SIZE, io.emend.core.quant.Q8_0.BYTES_PER_BLOCK);

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** ggml's numeric type id, as stored in GGUF tensor infos. */
    public int id() {
        return id;
    }

    public int blockSize() {
        return blockSize;
    }

    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    public static Optional<GgmlType> fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Whether a row of this many values can be stored (quantized rows are whole blocks). */
    public boolean fitsRow(long rowLength) {
        return rowLength % blockSize == 0;
    }

    /** Bytes for {@code elements} values; each row (the innermost dimension) must be whole blocks. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " values are not whole " + this + " blocks of " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, bytesPerBlock);
    }

    /** Encodes values in this type's layout (quantizing for Q8_0/Q4_0 with llama.cpp's reference rounding). */
    public byte[] encode(float[] values) {
        byte[] out = new byte[Math.toIntExact(byteSize(values.length))];
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
            case Q8_0 -> io.emend.core.quant.Q8_0.quantize(values, 0, values.length, seg, 0);
            case Q4_0 -> io.emend.core.quant.Q4_0.quantize(values, 0, values.length, seg, 0);
        }
        return out;
    }

    /** Decodes {@code elements} values stored in this type to a new F32 array. */
    public float[] decode(MemorySegment stored, long elements) {
        if (elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(elements + " elements do not fit one Java array");
        }
        if (stored.byteSize() != byteSize(elements)) {
            throw new IllegalArgumentException(this + " x " + elements + " needs " + byteSize(elements) + " bytes, got "
                    + stored.byteSize());
        }
        float[] out = new float[(int) elements];
        switch (this) {
            case F32 -> MemorySegment.copy(stored, F32_LE, 0, out, 0, out.length);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloat.f16ToFloat(stored.getAtIndex(U16_LE, i));
                }
            }
            case Q8_0 -> io.emend.core.quant.Q8_0.dequantize(stored, 0, out, 0, out.length);
            case Q4_0 -> io.emend.core.quant.Q4_0.dequantize(stored, 0, out, 0, out.length);
        }
        return out;
    }
}
