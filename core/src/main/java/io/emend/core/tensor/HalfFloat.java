package io.emend.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Conversions between F32 and the two 16-bit float formats found in checkpoints.
 * Widening (F16/BF16 to F32) is exact: every 16-bit value is representable in F32.
 * Narrowing rounds to nearest, ties to even, like PyTorch's {@code tensor.half()} and {@code tensor.bfloat16()},
 * so a checkpoint written by Emend holds the same bits a PyTorch export would.
 */
public final class HalfFloat {

    private HalfFloat() {
    }

    /**
     * IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits; bias 15) to F32.
     * Subnormals, infinities and NaN payloads are preserved; the JDK's intrinsic does the bit work.
     */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /**
     * bfloat16 to F32: bfloat16 is the upper half of an F32 (1 sign, 8 exponent, 7 mantissa bits),
     * so widening appends 16 zero mantissa bits.
     */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** F32 to binary16, round to nearest even; overflow gives infinity, NaN stays NaN. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * F32 to bfloat16, round to nearest even on the 16 dropped bits. NaN is kept a (quiet) NaN
     * rather than being rounded, which could carry into the exponent and turn it into infinity.
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb;
        return (short) (rounded >>> 16);
    }

    // The array forms below are the bulk conversions of the merge and checkpoint paths, each the scalar definition
    // in a plain counted loop. C2 compiles the F16 loops to vector instructions on its own (the F16C conversions it
    // intrinsifies Float.float16ToFloat/floatToFloat16 with): measured here (AVX-512, F16C) at 0.05 ns per element
    // each way, against 0.11 ns per element just to copy F16 bytes in from memory, so F16 needs no hand kernel.
    // The BF16 loops are not vectorized by C2 (0.33 ns per element widening, 0.7 narrowing), so BF16 also has
    // Vector API kernels beside them, which callers pick with their species (see io.emend.core.merge.TensorView).
    // HalfFloatTest checks the compiled loops and the kernels against the scalar methods bit for bit.

    /** Widens {@code src[0, len)} (binary16 bits) into {@code dst[0, len)}. */
    public static void f16ToFloat(short[] src, float[] dst, int len) {
        for (int i = 0; i < len; i++) {
            dst[i] = Float.float16ToFloat(src[i]);
        }
    }

    /** Narrows {@code src[0, len)} to binary16 bits in {@code dst[0, len)}, round to nearest even. */
    public static void floatToF16(float[] src, short[] dst, int len) {
        for (int i = 0; i < len; i++) {
            dst[i] = Float.floatToFloat16(src[i]);
        }
    }

    /** Widens {@code src[0, len)} (bfloat16 bits) into {@code dst[0, len)}: the definition. */
    public static void bf16ToFloat(short[] src, float[] dst, int len) {
        for (int i = 0; i < len; i++) {
            dst[i] = bf16ToFloat(src[i]);
        }
    }

    /** Narrows {@code src[0, len)} to bfloat16 bits in {@code dst[0, len)}, round to nearest even: the definition. */
    public static void floatToBf16(float[] src, short[] dst, int len) {
        for (int i = 0; i < len; i++) {
            dst[i] = floatToBf16(src[i]);
        }
    }

    /**
     * {@link #bf16ToFloat(short[], float[], int)} in vector lanes: each lane's 16 bits, sign-extended to an int and
     * shifted up by 16 (which drops the extension), are the F32 bits. {@code halves} has the lane count of
     * {@code ints} (half its width); pass constants, or the JIT boxes every vector.
     */
    public static void bf16ToFloatVector(VectorSpecies<Short> halves, VectorSpecies<Integer> ints, short[] src,
                                         float[] dst, int len) {
        int upper = halves.loopBound(len);
        int i = 0;
        for (; i < upper; i += halves.length()) {
            IntVector wide = (IntVector) ShortVector.fromArray(halves, src, i).convertShape(VectorOperators.S2I, ints, 0);
            wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, i);
        }
        for (; i < len; i++) {
            dst[i] = bf16ToFloat(src[i]);
        }
    }

    /**
     * {@link #floatToBf16(float[], short[], int)} in vector lanes, the scalar method's integer steps lane by lane:
     * add 0x7FFF plus the lowest kept bit (round to nearest even), keep the upper half; NaN lanes keep their upper
     * half with the quiet bit set. {@code halves} has the lane count of {@code floats} (half its width).
     */
    public static void floatToBf16Vector(VectorSpecies<Float> floats, VectorSpecies<Short> halves, float[] src,
                                         short[] dst, int len) {
        int upper = floats.loopBound(len);
        int i = 0;
        for (; i < upper; i += floats.length()) {
            IntVector bits = FloatVector.fromArray(floats, src, i).reinterpretAsInts();
            IntVector upperHalf = bits.lanewise(VectorOperators.LSHR, 16);
            IntVector rounded = bits.add(upperHalf.and(1)).add(0x7FFF).lanewise(VectorOperators.LSHR, 16);
            VectorMask<Integer> nan = bits.and(0x7FFF_FFFF).compare(VectorOperators.GT, 0x7F80_0000);
            IntVector result = rounded.blend(upperHalf.or(0x0040), nan);
            ((ShortVector) result.convertShape(VectorOperators.I2S, halves, 0)).intoArray(dst, i);
        }
        for (; i < len; i++) {
            dst[i] = floatToBf16(src[i]);
        }
    }
}
