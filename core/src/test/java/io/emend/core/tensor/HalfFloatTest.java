package io.emend.core.tensor;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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

    /**
     * binary16 rounding from its definition, in double: round |f| to the nearest multiple of the binary16 spacing at
     * its exponent (2^-24 below the normal range), ties to even ({@link Math#rint}), infinity from 65520 up (half an
     * ulp above the largest finite 65504). Independent of the JDK's conversion; NaN is left to the caller.
     */
    private static short f16RoundingDefinition(float f) {
        int sign = Float.floatToRawIntBits(f) >>> 31 << 15;
        double a = Math.abs((double) f);
        if (a >= 65520) {
            return (short) (sign | 0x7C00);
        }
        if (a < 0x1p-14) {
            return (short) (sign | (int) Math.rint(a * 0x1p24));
        }
        int e = Math.getExponent(a);
        int q = (int) Math.rint((Math.scalb(a, -e) - 1) * 1024);
        if (q == 1024) {
            e++;
            q = 0;
        }
        return (short) (sign | (e + 15) << 10 | q);
    }

    /**
     * Floats that exercise every rounding case: a stride through all 2^32 patterns, and for every binary16 value the
     * float just below, at and above the midpoint to its successor (ties of both parities, normal and subnormal).
     */
    private static float[] narrowingSweep() {
        int strided = (int) ((1L << 32) / 1021 + 1);
        float[] sweep = new float[strided + (1 << 15) * 6];
        int n = 0;
        for (long b = 0; b < 1L << 32; b += 1021) {
            sweep[n++] = Float.intBitsToFloat((int) b);
        }
        for (int h = 0; h < 1 << 15; h++) {
            float lo = Float.float16ToFloat((short) h);
            float hi = Float.float16ToFloat((short) (h + 1));
            if (!Float.isFinite(lo) || !Float.isFinite(hi)) {
                continue;
            }
            float mid = (float) (((double) lo + hi) / 2);
            for (float f : new float[] {Math.nextDown(mid), mid, Math.nextUp(mid)}) {
                sweep[n++] = f;
                sweep[n++] = -f;
            }
        }
        return java.util.Arrays.copyOf(sweep, n);
    }

    /**
     * The array loops, which C2 compiles to vector F16C conversions (or integer vector code for BF16), give the bits
     * of the scalar methods and of the definitions, for every binary16/bfloat16 pattern and for the sweep of floats;
     * each array is converted in chunks, over and over, so that the checks run on the compiled loops.
     */
    @Test
    void arrayConversionsEqualTheScalarOnesBitForBit() {
        short[] every = new short[1 << 16];
        for (int i = 0; i < every.length; i++) {
            every[i] = (short) i;
        }
        float[] wide = new float[every.length];
        for (int round = 0; round < 40; round++) {
            HalfFloat.f16ToFloat(every, wide, every.length);
            for (int i = 0; i < every.length; i++) {
                float expected = HalfFloat.f16ToFloat(every[i]);
                if (Float.isNaN(expected)) {
                    check(Float.isNaN(wide[i]) && Float.floatToRawIntBits(wide[i]) >>> 31 == i >>> 15, "f16 NaN", i);
                } else {
                    check(Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(wide[i]), "f16", i);
                }
            }
            HalfFloat.bf16ToFloat(every, wide, every.length);
            for (int i = 0; i < every.length; i++) {
                check(Float.floatToRawIntBits(HalfFloat.bf16ToFloat(every[i])) == Float.floatToRawIntBits(wide[i]),
                        "bf16", i);
            }
        }
        float[] sweep = narrowingSweep();
        int chunk = 1 << 13;
        float[] in = new float[chunk];
        short[] f16 = new short[chunk];
        short[] bf16 = new short[chunk];
        for (int from = 0; from < sweep.length; from += chunk) {
            int len = Math.min(chunk, sweep.length - from);
            System.arraycopy(sweep, from, in, 0, len);
            HalfFloat.floatToF16(in, f16, len);
            HalfFloat.floatToBf16(in, bf16, len);
            for (int i = 0; i < len; i++) {
                float f = in[i];
                int what = Float.floatToRawIntBits(f);
                if (Float.isNaN(f)) {
                    check(Float.isNaN(Float.float16ToFloat(f16[i])) && (f16[i] & 0x8000) >>> 15 == what >>> 31,
                            "f16 of NaN", what);
                } else {
                    check(f16RoundingDefinition(f) == f16[i], "f16 definition of", what);
                    check(HalfFloat.floatToF16(f) == f16[i], "f16 scalar of", what);
                }
                check(HalfFloat.floatToBf16(f) == bf16[i], "bf16 scalar of", what);
            }
        }
    }

    /**
     * The BF16 vector kernels at every width (the Vector API emulates widths the CPU lacks) against the scalar
     * methods, bit for bit: all 65,536 patterns widened, the float sweep (NaNs of every payload among it) narrowed,
     * at lengths that leave every tail size.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void bf16KernelsEqualTheScalarMethodsBitForBit(int bits) {
        VectorSpecies<Float> floats = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        VectorSpecies<Integer> ints = floats.withLanes(int.class);
        VectorSpecies<Short> halves = VectorSpecies.of(short.class, VectorShape.forBitSize(bits / 2));
        short[] every = new short[1 << 16];
        for (int i = 0; i < every.length; i++) {
            every[i] = (short) i;
        }
        for (int len : new int[] {every.length, every.length - 1, every.length - 7, 5, 0}) {
            float[] wide = new float[every.length];
            HalfFloat.bf16ToFloatVector(halves, ints, every, wide, len);
            for (int i = 0; i < every.length; i++) {
                int expected = i < len ? Float.floatToRawIntBits(HalfFloat.bf16ToFloat(every[i])) : 0;
                check(expected == Float.floatToRawIntBits(wide[i]), "bf16", i);
            }
        }
        float[] sweep = narrowingSweep();
        short[] narrow = new short[sweep.length];
        for (int len : new int[] {sweep.length, sweep.length - 3}) {
            java.util.Arrays.fill(narrow, (short) 0);
            HalfFloat.floatToBf16Vector(floats, halves, sweep, narrow, len);
            for (int i = 0; i < sweep.length; i++) {
                short expected = i < len ? HalfFloat.floatToBf16(sweep[i]) : 0;
                check(expected == narrow[i], "bf16 of", Float.floatToRawIntBits(sweep[i]));
            }
        }
    }

    /** An assertion whose message is built only on failure: these loops check tens of millions of values. */
    private static void check(boolean ok, String what, int bits) {
        if (!ok) {
            fail(what + " " + Integer.toHexString(bits));
        }
    }

    @Test
    void partialElementIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> DType.F32.toFloats(MemorySegment.ofArray(new byte[6])));
    }
}
