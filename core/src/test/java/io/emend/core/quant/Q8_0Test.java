package io.emend.core.quant;

import io.emend.core.tensor.HalfFloat;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Q8_0Test {

    /**
     * A block worked out by hand: max|x| = 127, so d = 1 (F16 0x3C00, stored little-endian 00 3C) and q = round(x).
     * -2.5 and 2.5 check C's roundf (half away from zero), which Java's Math.round would get wrong for -2.5.
     */
    @Test
    void byteLayoutOfAHandComputedBlock() {
        float[] x = new float[32];
        x[0] = -127;
        x[1] = -2.5f;
        x[2] = 2.5f;
        for (int j = 3; j < 32; j++) {
            x[j] = j - 15.7f;
        }
        byte[] expected = new byte[34];
        expected[0] = 0x00;
        expected[1] = 0x3C;
        expected[2] = (byte) -127;
        expected[3] = -3;
        expected[4] = 3;
        for (int j = 3; j < 32; j++) {
            expected[2 + j] = (byte) (j - 16);
        }
        byte[] out = new byte[Q8_0.BYTES_PER_BLOCK];
        Q8_0.quantize(x, 0, 32, MemorySegment.ofArray(out), 0);
        assertArrayEquals(expected, out);
        float[] back = new float[32];
        Q8_0.dequantize(MemorySegment.ofArray(out), 0, back, 0, 32);
        assertEquals(-127f, back[0]);
        assertEquals(-3f, back[1]);
        assertEquals(15f, back[31]);
    }

    /**
     * Per element, |x - q * d16| <= d/2 + 127 * |d - d16| (+ float rounding): q is x/d rounded to the nearest integer
     * (error <= 1/2 step of the F32 scale d), and dequantization uses the stored F16 scale d16, which moves each
     * value by |q| * |d - d16| with |q| <= 127. The last term, |x| * 2^-22, covers the float roundings of x * (1/d)
     * and q * d16 (a few units of 2^-24 relative each).
     */
    @Test
    void quantizationErrorIsWithinHalfAStep() {
        Random random = new Random(42);
        float[] scales = {1e-6f, 1e-3f, 0.02f, 1f, 300f, 5000f};
        for (float scale : scales) {
            float[] x = new float[32 * 64];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * scale);
            }
            byte[] q = new byte[(int) Q8_0.byteSize(x.length)];
            Q8_0.quantize(x, 0, x.length, MemorySegment.ofArray(q), 0);
            float[] back = new float[x.length];
            Q8_0.dequantize(MemorySegment.ofArray(q), 0, back, 0, x.length);
            for (int b = 0; b < x.length / 32; b++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(x[b * 32 + j]));
                }
                float d = amax / 127;
                float d16 = HalfFloat.f16ToFloat(HalfFloat.floatToF16(d));
                for (int j = 0; j < 32; j++) {
                    int i = b * 32 + j;
                    double bound = d / 2.0 + 127.0 * Math.abs(d - d16) + Math.abs(x[i]) * 0x1p-22;
                    assertTrue(Math.abs(x[i] - back[i]) <= bound,
                            "scale " + scale + " element " + i + ": " + x[i] + " -> " + back[i] + ", bound " + bound);
                }
            }
        }
    }

    @Test
    void zeroBlockStaysZero() {
        byte[] q = new byte[Q8_0.BYTES_PER_BLOCK];
        Q8_0.quantize(new float[32], 0, 32, MemorySegment.ofArray(q), 0);
        assertArrayEquals(new byte[Q8_0.BYTES_PER_BLOCK], q);
    }

    @Test
    void offsetsAndPartialBlocks() {
        float[] x = new float[40];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        byte[] q = new byte[3 + Q8_0.BYTES_PER_BLOCK];
        Q8_0.quantize(x, 8, 32, MemorySegment.ofArray(q), 3);
        float[] back = new float[32];
        Q8_0.dequantize(MemorySegment.ofArray(q), 3, back, 0, 32);
        assertEquals(39f, back[31], 39f / 127 / 2 + 39f * 0x1p-10, "the block starting at x[8]");
        assertEquals(0, MemorySegment.ofArray(q).get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalArgumentException.class, () -> Q8_0.quantize(x, 0, 33, MemorySegment.ofArray(q), 0));
        assertEquals(34 * 3, Q8_0.byteSize(96));
    }
}
