package io.emend.core.quant;

import io.emend.core.tensor.HalfFloat;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Q4_0Test {

    /**
     * Worked out by hand: the value of largest magnitude is -8, so d = -8 / -8 = 1 (F16 0x3C00) and a value x gets
     * code trunc(x + 8.5). x[j] = (j mod 16) - 8 gives code j mod 16, so byte j (low nibble: value j, high nibble:
     * value j + 16) is 0x11 * j. x[31] = 7.6 would need code 16 and is clamped to 15.
     */
    @Test
    void byteLayoutOfAHandComputedBlock() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = (j % 16) - 8;
        }
        x[31] = 7.6f;
        byte[] expected = new byte[18];
        expected[0] = 0x00;
        expected[1] = 0x3C;
        for (int j = 0; j < 16; j++) {
            expected[2 + j] = (byte) (0x11 * j);
        }
        byte[] out = new byte[Q4_0.BYTES_PER_BLOCK];
        Q4_0.quantize(x, 0, 32, MemorySegment.ofArray(out), 0);
        assertArrayEquals(expected, out);
        float[] back = new float[32];
        Q4_0.dequantize(MemorySegment.ofArray(out), 0, back, 0, 32);
        for (int j = 0; j < 31; j++) {
            assertEquals(x[j], back[j], 0.0, "exact codes round-trip");
        }
        assertEquals(7f, back[31], "clamped to the top code");
    }

    @Test
    void positiveMaximumGivesANegativeScale() {
        float[] x = new float[32];
        x[5] = 4f;
        x[6] = -1f;
        byte[] out = new byte[Q4_0.BYTES_PER_BLOCK];
        Q4_0.quantize(x, 0, 32, MemorySegment.ofArray(out), 0);
        assertEquals(HalfFloat.floatToF16(-0.5f), (short) ((out[0] & 0xFF) | (out[1] << 8)), "d = 4 / -8");
        float[] back = new float[32];
        Q4_0.dequantize(MemorySegment.ofArray(out), 0, back, 0, 32);
        assertEquals(4f, back[5], 0.0, "the maximum maps to code 0 exactly");
        assertEquals(-1f, back[6], 0.0);
        assertEquals(0f, back[0], 0.0);
    }

    /**
     * Codes are x/d rounded to the nearest integer in [-8, 7] (step |d|), so an unclamped element is off by at most
     * |d|/2; the clamp only bites for x/d in (7.5, 8] — values on the opposite side of the maximum with nearly its
     * magnitude — where the error is at most |d|. The stored F16 scale adds |q - 8| * |d - d16| <= 8 * |d - d16|,
     * and float rounding of x * (1/d) and of the product adds at most |x| * 2^-21.
     */
    @Test
    void quantizationErrorIsWithinHalfAStep() {
        Random random = new Random(7);
        float[] scales = {1e-5f, 0.01f, 1f, 2000f};
        for (float scale : scales) {
            float[] x = new float[32 * 64];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * scale);
            }
            byte[] q = new byte[(int) Q4_0.byteSize(x.length)];
            Q4_0.quantize(x, 0, x.length, MemorySegment.ofArray(q), 0);
            float[] back = new float[x.length];
            Q4_0.dequantize(MemorySegment.ofArray(q), 0, back, 0, x.length);
            int clamped = 0;
            for (int b = 0; b < x.length / 32; b++) {
                float max = 0;
                for (int j = 0; j < 32; j++) {
                    if (Math.abs(x[b * 32 + j]) > Math.abs(max)) {
                        max = x[b * 32 + j];
                    }
                }
                float d = max / -8;
                float d16 = HalfFloat.f16ToFloat(HalfFloat.floatToF16(d));
                for (int j = 0; j < 32; j++) {
                    int i = b * 32 + j;
                    boolean clamp = x[i] / d > 7.5f;
                    clamped += clamp ? 1 : 0;
                    double step = Math.abs(d) * (clamp ? 1.0 : 0.5);
                    double bound = step + 8.0 * Math.abs(d - d16) + Math.abs(x[i]) * 0x1p-21;
                    assertTrue(Math.abs(x[i] - back[i]) <= bound,
                            "scale " + scale + " element " + i + ": " + x[i] + " -> " + back[i] + ", bound " + bound);
                }
            }
            assertTrue(clamped < x.length / 32, "the clamp is rare");
        }
    }

    @Test
    void partialBlocksAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Q4_0.byteSize(31));
        assertEquals(18 * 2, Q4_0.byteSize(64));
    }
}
