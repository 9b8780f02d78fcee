package io.emend.core.quant;

import io.emend.core.tensor.HalfFloat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml's {@code block_q8_0}: 32 values as one F16 scale {@code d} followed by 32 signed bytes {@code q},
 * value = {@code q * d}. Quantization follows llama.cpp's {@code quantize_row_q8_0_ref}: {@code d = max|x| / 127},
 * {@code q = round(x / d)} (half away from zero, as C's {@code roundf}) computed with the F32 scale, and the scale
 * stored rounded to F16, so files written here are byte-identical to llama.cpp's for the same input.
 */
public final class Q8_0 {

    /** Values per block ({@code QK8_0}). */
    public static final int BLOCK_SIZE = 32;
    /** Bytes of the F16 scale. */
    public static final int SCALE_BYTES = Short.BYTES;
    /** Bytes per block: the scale, then one int8 per value. */
    public static final int BYTES_PER_BLOCK = SCALE_BYTES + BLOCK_SIZE;
    /** Largest quantized magnitude. */
    static final int Q_MAX = 127;

    static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q8_0() {
    }

    /** Bytes needed for {@code count} values ({@code count} a multiple of {@link #BLOCK_SIZE}). */
    public static long byteSize(long count) {
        return Math.multiplyExact(blocks(count), BYTES_PER_BLOCK);
    }

    static long blocks(long count) {
        if (count % BLOCK_SIZE != 0) {
            throw new IllegalArgumentException(count + " values are not a whole number of " + BLOCK_SIZE + "-value blocks");
        }
        return count / BLOCK_SIZE;
    }

    /** Quantizes {@code count} values from {@code src[srcOffset]} into blocks at {@code dst[dstOffset]}. */
    public static void quantize(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        long blocks = blocks(count);
        for (int b = 0; b < blocks; b++) {
            int base = srcOffset + b * BLOCK_SIZE;
            float amax = 0;
            for (int j = 0; j < BLOCK_SIZE; j++) {
                amax = Math.max(amax, Math.abs(src[base + j]));
            }
            float d = amax / Q_MAX;
            float id = d != 0 ? 1.0f / d : 0.0f;
            long block = dstOffset + (long) b * BYTES_PER_BLOCK;
            dst.set(SCALE, block, HalfFloat.floatToF16(d));
            for (int j = 0; j < BLOCK_SIZE; j++) {
                dst.set(ValueLayout.JAVA_BYTE, block + SCALE_BYTES + j, (byte) roundHalfAwayFromZero(src[base + j] * id));
            }
        }
    }

    /** Dequantizes {@code count} values from blocks at {@code src[srcOffset]} into {@code dst[dstOffset]}. */
    public static void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count) {
        long blocks = blocks(count);
        for (int b = 0; b < blocks; b++) {
            long block = srcOffset + (long) b * BYTES_PER_BLOCK;
            float d = HalfFloat.f16ToFloat(src.get(SCALE, block));
            for (int j = 0; j < BLOCK_SIZE; j++) {
                dst[dstOffset + b * BLOCK_SIZE + j] = src.get(ValueLayout.JAVA_BYTE, block + SCALE_BYTES + j) * d;
            }
        }
    }

    /** C's {@code roundf}: halves go away from zero (Java's Math.round goes up, which differs for negative halves). */
    static int roundHalfAwayFromZero(float x) {
        float r = Math.abs(x);
        int i = (int) r;
        // r - i is exact for |x| < 2^23, so this avoids the rounding of r + 0.5f just below a half.
        if (r - i >= 0.5f) {
            i++;
        }
        return x < 0 ? -i : i;
    }
}
