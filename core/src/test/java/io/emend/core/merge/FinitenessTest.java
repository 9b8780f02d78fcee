package io.emend.core.merge;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FinitenessTest {

    /** Finite extremes and non-finite values of each format, as bits. */
    private static final short[] F16_FINITE = {0x0000, (short) 0x8000, 0x0001, 0x03FF, 0x7BFF, (short) 0xFBFF, 0x3C00};
    private static final short[] F16_NON_FINITE = {0x7C00, (short) 0xFC00, 0x7C01, 0x7E00, (short) 0xFFFF};
    private static final short[] BF16_FINITE = {0x0000, (short) 0x8000, 0x0001, 0x7F7F, (short) 0xFF7F, 0x3F80};
    private static final short[] BF16_NON_FINITE = {0x7F80, (short) 0xFF80, 0x7FC0, 0x7F81, (short) 0xFFFF};
    private static final float[] F32_FINITE = {0f, -0f, Float.MIN_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE, 1f};
    private static final float[] F32_NON_FINITE = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.intBitsToFloat(0xFFFF_FFFF), Float.intBitsToFloat(0x7F80_0001)};

    /**
     * Every width, every length up to a few of the widest vectors (so every tail length occurs), and each
     * non-finite value at every position, in the vector body and in the tail: the kernel and the scalar definition
     * must agree, and the definition must say what the values are.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void sixteenBitKernelAgreesWithTheDefinition(int bits) {
        VectorSpecies<Short> species = VectorSpecies.of(short.class, VectorShape.forBitSize(bits));
        check16(species, F16_FINITE, F16_NON_FINITE, Finiteness.F16_EXPONENT, bits);
        check16(species, BF16_FINITE, BF16_NON_FINITE, Finiteness.BF16_EXPONENT, bits);
    }

    private static void check16(VectorSpecies<Short> species, short[] finite, short[] nonFinite, short exponent,
                                int seed) {
        Random r = new Random(seed);
        for (int len = 0; len <= 3 * 32 + 5; len++) {
            short[] values = new short[len + 3];
            for (int i = 0; i < values.length; i++) {
                values[i] = finite[r.nextInt(finite.length)];
            }
            // a non-finite value past len must not count
            values[len] = nonFinite[r.nextInt(nonFinite.length)];
            assertTrue(Finiteness.allScalar(values, len, exponent), "len " + len);
            assertTrue(Finiteness.allVector(species, values, len, exponent), "len " + len);
            for (int at = 0; at < len; at++) {
                short kept = values[at];
                values[at] = nonFinite[r.nextInt(nonFinite.length)];
                assertFalse(Finiteness.allScalar(values, len, exponent), "len " + len + " at " + at);
                assertFalse(Finiteness.allVector(species, values, len, exponent), "len " + len + " at " + at);
                values[at] = kept;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void f32KernelAgreesWithTheDefinition(int bits) {
        VectorSpecies<Float> species = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        VectorSpecies<Integer> ints = species.withLanes(int.class);
        Random r = new Random(bits);
        for (int len = 0; len <= 3 * 16 + 5; len++) {
            float[] values = new float[len + 3];
            for (int i = 0; i < values.length; i++) {
                values[i] = F32_FINITE[r.nextInt(F32_FINITE.length)];
            }
            values[len] = Float.NaN;
            assertTrue(Finiteness.allScalar(values, len), "len " + len);
            assertTrue(Finiteness.allVector(species, ints, values, len), "len " + len);
            for (int at = 0; at < len; at++) {
                float kept = values[at];
                values[at] = F32_NON_FINITE[r.nextInt(F32_NON_FINITE.length)];
                assertFalse(Finiteness.allScalar(values, len), "len " + len + " at " + at);
                assertFalse(Finiteness.allVector(species, ints, values, len), "len " + len + " at " + at);
                values[at] = kept;
            }
        }
    }

    /** Over all 65,536 patterns one at a time, the kernel's verdict is the format's own: exponent all ones. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void everySixteenBitPatternIsJudgedByItsExponent(int bits) {
        VectorSpecies<Short> species = VectorSpecies.of(short.class, VectorShape.forBitSize(bits));
        short[] one = new short[species.length()];
        for (int p = 0; p < 1 << 16; p++) {
            one[one.length - 1] = (short) p;
            assertEquals(Float.isFinite(Float.float16ToFloat((short) p)),
                    Finiteness.allVector(species, one, one.length, Finiteness.F16_EXPONENT), "f16 " + p);
            assertEquals(Float.isFinite(Float.intBitsToFloat(p << 16)),
                    Finiteness.allVector(species, one, one.length, Finiteness.BF16_EXPONENT), "bf16 " + p);
        }
    }
}
