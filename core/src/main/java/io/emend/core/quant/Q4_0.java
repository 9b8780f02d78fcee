package io.emend.core.quant;

import io.emend.core.tensor.HalfFloat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ggml's {@code block_q4_0}: 32 values as one F16 scale {@code d} followed by 16 bytes of 4-bit codes,
 * value = {@code (q - 8) * d}. Byte {@code j} holds value {@code j} in its low nibble and value {@code j + 16} in
 * its high nibble. Quantization follows llama.cpp's {@code quantize_row_q4_0_ref}: {@code max} is the value of
 * largest magnitude with its sign, {@code d = max / -8} (so {@code max} itself maps exactly to code 0), and
 * {@code q = min(15, trunc(x / d + 8.5))}, computed with the F32 scale; the stored scale is rounded to F16.
 */
public final class Q4_0 {

    /** Values per block ({@code QK4_0}). */
    public static final int BLOCK_SIZE = 32;
    /** Bytes of the F16 scale. */
    public static final int SCALE_BYTES = Short.BYTES;
    /** Bytes per block: the scale, then two 4-bit codes per byte. */
    public static final int BYTES_PER_BLOCK = SCALE_BYTES + BLOCK_SIZE / 2;
    /** Code of zero: codes 0..15 stand for -8..7 times the scale. */
    static final int ZERO_CODE = 8;
    static final int MAX_CODE = 15;
    /** ZERO_CODE + 0.5 as one float constant, added in one step exactly as llama.cpp does. */
    private static final float ZERO_CODE_PLUS_HALF = 8.5f;

    private Q4_0() {
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
        int half = BLOCK_SIZE / 2;
        for (int b = 0; b < blocks; b++) {
            int base = srcOffset + b * BLOCK_SIZE;
            float amax = 0;
            float max = 0;
            for (int j = 0; j < BLOCK_SIZE; j++) {
                float v = src[base + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -ZERO_CODE;
            float id = d != 0 ? 1.0f / d : 0.0f;
            long block = dstOffset + (long) b * BYTES_PER_BLOCK;
            dst.set(Q8_0.SCALE, block, HalfFloat.floatToF16(d));
            for (int j = 0; j < half; j++) {
                int lo = code(src[base + j] * id);
                int hi = code(src[base + half + j] * id);
                dst.set(ValueLayout.JAVA_BYTE, block + SCALE_BYTES + j, (byte) (lo | (hi << 4)));
            }
        }
    }

    /** x/d + 8.5 truncated (C's int8 cast; the sum is positive, so this rounds x/d half up), capped at 15. */
    private static int code(float scaled) {
        return Math.min(MAX_CODE, (byte) (scaled + ZERO_CODE_PLUS_HALF));
    }

    /** Dequantizes {@code count} values from blocks at {@code src[srcOffset]} into {@code dst[dstOffset]}. */
    public static void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count) {
        long blocks = blocks(count);
        int half = BLOCK_SIZE / 2;
        for (int b = 0; b < blocks; b++) {
            long block = srcOffset + (long) b * BYTES_PER_BLOCK;
            float d = HalfFloat.f16ToFloat(src.get(Q8_0.SCALE, block));
            int out = dstOffset + b * BLOCK_SIZE;
            for (int j = 0; j < half; j++) {
                int packed = src.get(ValueLayout.JAVA_BYTE, block + SCALE_BYTES + j) & 0xFF;
                dst[out + j] = ((packed & 0x0F) - ZERO_CODE) * d;
                dst[out + half + j] = ((packed >>> 4) - ZERO_CODE) * d;
            }
        }
    }
}
