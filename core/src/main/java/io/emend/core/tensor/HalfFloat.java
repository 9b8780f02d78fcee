package io.emend.core.tensor;

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
}
