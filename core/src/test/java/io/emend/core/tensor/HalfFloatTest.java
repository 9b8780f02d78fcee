package io.emend.core.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfFloatTest {

    /** binary16 decoded straight from its definition, in double: an independent reference for all 65,536 patterns. */
    private static double f16Definition(int bits) {
        int sign = (bits >> 15) & 1;
        int exponent = (bits >> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        double magnitude;
        if (exponent == 0) {
            magnitude = Math.scalb(mantissa / 1024.0, -14);
        } else if (exponent == 31) {
            magnitude = mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            magnitude = Math.scalb(1 + mantissa / 1024.0, exponent - 15);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    /** bfloat16 from its definition (8-bit exponent, bias 127, 7 mantissa bits). */
    private static double bf16Definition(int bits) {
        int sign = (bits >> 15) & 1;
        int exponent = (bits >> 7) & 0xFF;
        int mantissa = bits & 0x7F;
        double magnitude;
        if (exponent == 0) {
            magnitude = Math.scalb(mantissa / 128.0, -126);
        } else if (exponent == 255) {
            magnitude = mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            magnitude = Math.scalb(1 + mantissa / 128.0, exponent - 127);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    @Test
    void f16WideningIsExactForEveryBitPattern() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float widened = HalfFloat.f16ToFloat((short) bits);
            double expected = f16Definition(bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(widened), "bits " + Integer.toHexString(bits));
            } else {
                assertEquals(expected, widened, 0.0, "bits " + Integer.toHexString(bits));
                assertEquals(bits >> 15, Float.floatToRawIntBits(widened) >>> 31, "sign of -0 and negatives");
            }
        }
    }

    @Test
    void bf16WideningIsExactForEveryBitPattern() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float widened = HalfFloat.bf16ToFloat((short) bits);
            double expected = bf16Definition(bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(widened), "bits " + Integer.toHexString(bits));
            } else {
                assertEquals(expected, widened, 0.0, "bits " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void narrowingInvertsWideningForEveryFiniteValue() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f16 = HalfFloat.f16ToFloat((short) bits);
            if (!Float.isNaN(f16)) {
                assertEquals((short) bits, HalfFloat.floatToF16(f16));
            }
            float bf16 = HalfFloat.bf16ToFloat((short) bits);
            if (!Float.isNaN(bf16)) {
                assertEquals((short) bits, HalfFloat.floatToBf16(bf16));
            }
        }
    }

    @Test
    void bf16NarrowingRoundsToNearestEven() {
        // bf16 keeps 7 mantissa bits, so its spacing just above 1 is 2^-7.
        assertEquals(1.0f, HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(1 + 0x1p-8f)), "tie goes to the even 1.0");
        assertEquals(1 + 0x1p-6f, HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(1 + 0x1p-7f + 0x1p-8f)),
                "tie between odd 1+2^-7 and even 1+2^-6 goes up");
        assertEquals(1 + 0x1p-7f, HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(1 + 0x1p-8f + 0x1p-20f)),
                "just above the tie goes up");
        assertEquals(Float.POSITIVE_INFINITY, HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(Float.MAX_VALUE)));
        assertTrue(Float.isNaN(HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(Float.intBitsToFloat(0x7FFFFFFF)))),
                "a NaN whose rounding would carry into the exponent stays NaN");
    }

    @Test
    void dtypeRoundTripsThroughLittleEndianBytes() {
        float[] values = {0f, -0f, 1.5f, -2.25f, 65504f, 0x1p-24f, 3.0e38f};
        for (DType d : DType.values()) {
            byte[] stored = d.fromFloats(values);
            assertEquals(values.length * d.bytes(), stored.length);
            float[] back = d.toFloats(MemorySegment.ofArray(stored));
            for (int i = 0; i < values.length; i++) {
                float expected = switch (d) {
                    case F32 -> values[i];
                    case F16 -> HalfFloat.f16ToFloat(HalfFloat.floatToF16(values[i]));
                    case BF16 -> HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(values[i]));
                };
                assertEquals(expected, back[i], 0.0, d + " element " + i);
            }
        }
        // 1.0f is 0x3F800000: little-endian puts the low byte first.
        assertArrayEquals(new byte[]{0, 0, (byte) 0x80, 0x3F}, DType.F32.fromFloats(new float[]{1f}));
        assertArrayEquals(new byte[]{0, 0x3C}, DType.F16.fromFloats(new float[]{1f}));
        assertArrayEquals(new byte[]{(byte) 0x80, 0x3F}, DType.BF16.fromFloats(new float[]{1f}));
    }

    @Test
    void partialElementIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> DType.F32.toFloats(MemorySegment.ofArray(new byte[6])));
    }
}
