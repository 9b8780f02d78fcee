package io.emend.core.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class F16TensorTest {

    static F16Tensor shifted(Arena arena, short[] halves, int rows, int cols, int shift) {
        MemorySegment whole = arena.allocate((long) halves.length * Short.BYTES + shift, 64);
        MemorySegment data = whole.asSlice(shift, (long) halves.length * Short.BYTES);
        for (int i = 0; i < halves.length; i++) {
            data.set(F16Tensor.LE_SHORT, (long) i * Short.BYTES, halves[i]);
        }
        return new F16Tensor(data, rows, cols);
    }

    @Test
    void vectorMatchesScalarAtEveryWidthAndOddLength() {
        Random random = new Random(12);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1, 7, 16, 37, 64, 131}) {
                for (int shift : new int[] {0, 1}) {
                    int rows = shift == 1 ? 13 : 3; // 13 rows: matVec's four streams of unequal length
                    float[] w = KernelAssertions.gaussian(random, rows * cols, 0.5);
                    short[] h = new short[w.length];
                    for (int i = 0; i < w.length; i++) {
                        h[i] = Float.floatToFloat16(w[i]);
                    }
                    KernelAssertions.assertKernelsAgree(shifted(arena, h, rows, cols, shift), random);
                }
            }
        }
    }

    @Test
    void vectorWideningIsExactForEveryFiniteHalf() {
        // All 63,488 finite bit patterns (normals, subnormals, both zeros, both signs), widened by the vector trick,
        // must equal Float.float16ToFloat exactly: a one-hot activation picks each out on its own.
        int finite = 0;
        short[] all = new short[1 << 16];
        for (int bits = 0; bits < 1 << 16; bits++) {
            if ((bits & 0x7c00) != 0x7c00) {
                all[finite++] = (short) bits;
            }
        }
        int cols = 64;
        int rows = finite / cols;
        try (Arena arena = Arena.ofConfined()) {
            F16Tensor t = shifted(arena, java.util.Arrays.copyOf(all, rows * cols), rows, cols, 0);
            float[] row = new float[cols];
            for (VectorSpecies<Float> s : KernelAssertions.WIDTHS) {
                for (int c = 0; c < cols; c += 13) {
                    float[] x = new float[cols];
                    x[c] = 1f;
                    for (int r = 0; r < rows; r++) {
                        float expected = Float.float16ToFloat(all[r * cols + c]);
                        assertEquals(expected, t.dotVector(s, r, x, 0), 0f, s + " half " + Integer.toHexString(all[r * cols + c] & 0xffff));
                    }
                }
            }
            t.readRow(rows - 1, row, 0);
            assertEquals(Float.float16ToFloat(all[rows * cols - 1]), row[cols - 1]);
        }
    }

    @Test
    void rejectsInfiniteOrNaNWeights() {
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> F16Tensor.of(arena, new float[] {1f, Float.POSITIVE_INFINITY}, 1, 2));
            assertEquals("values: element 1 is infinite or NaN", e.getMessage());
        }
    }
}
