package io.emend.core.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class F32TensorTest {

    /** A tensor whose data starts {@code shift} bytes into a larger segment, so loads are unaligned. */
    static F32Tensor shifted(Arena arena, float[] values, int rows, int cols, int shift) {
        MemorySegment whole = arena.allocate((long) values.length * Float.BYTES + shift, 64);
        MemorySegment data = whole.asSlice(shift, (long) values.length * Float.BYTES);
        MemorySegment.copy(values, 0, data, F32Tensor.LE_FLOAT, 0, values.length);
        return new F32Tensor(data, rows, cols);
    }

    @Test
    void vectorMatchesScalarAtEveryWidthAndOddLength() {
        Random random = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            // 1 and 7 are below one 128-bit vector; 37 and 131 leave tails after the unrolled and single-vector loops.
            for (int cols : new int[] {1, 7, 16, 37, 64, 131}) {
                for (int shift : new int[] {0, 1, 3}) {
                    int rows = shift == 1 ? 13 : 3; // 13 rows: matVec's four streams of unequal length
                    F32Tensor t = shifted(arena, KernelAssertions.gaussian(random, rows * cols, 0.5), rows, cols, shift);
                    KernelAssertions.assertKernelsAgree(t, random);
                }
            }
        }
    }

    @Test
    void hugeAndSubnormalValuesStayExactWhereTheSumIsExact() {
        try (Arena arena = Arena.ofConfined()) {
            float[] w = {Float.MIN_VALUE, 1e30f, -1e30f, 2f, Float.MIN_VALUE, 0f, 0f, 0f, 3f};
            F32Tensor t = F32Tensor.of(arena, w, 1, w.length);
            float[] x = {1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f};
            // 1e30 - 1e30 cancels exactly in either order; 2 + 3 is exact; the subnormals vanish beside them.
            assertEquals(5f, t.dotScalar(0, x, 0));
            for (VectorSpecies<Float> s : KernelAssertions.WIDTHS) {
                assertEquals(5f, t.dotVector(s, 0, x, 0), s.toString());
            }
        }
    }

    @Test
    void floatArrayKernelsMatchScalar() {
        Random random = new Random(5);
        for (int n : new int[] {1, 5, 8, 19, 64}) {
            float[] a = KernelAssertions.gaussian(random, n + 2, 1);
            float[] b = KernelAssertions.gaussian(random, n + 1, 1);
            float scalar = F32Tensor.dotScalar(a, 2, b, 1, n);
            for (VectorSpecies<Float> s : KernelAssertions.WIDTHS) {
                // n·u relative to Σ|ab| ≤ n (entries ~N(0,1) bounded well below 4): 4n·2^-24·16n is generous.
                assertEquals(scalar, F32Tensor.dotVector(s, a, 2, b, 1, n), 64.0 * n * n * 0x1p-24, s + " n=" + n);
                float[] y1 = b.clone();
                float[] y2 = b.clone();
                F32Tensor.axpyScalar(0.75f, a, 2, y1, 1, n);
                F32Tensor.axpyVector(s, 0.75f, a, 2, y2, 1, n);
                // One fused rounding against two: they differ by at most 2^-23·(|y| + |s·x|); entries of these N(0,1)
                // vectors stay below 6, so 2^-23·12 < 2e-6 bounds it.
                for (int i = 0; i < y1.length; i++) {
                    assertEquals(y1[i], y2[i], 2e-6f, s + " axpy element " + i);
                }
            }
        }
    }

    @Test
    void readRowReturnsTheStoredRow() {
        try (Arena arena = Arena.ofConfined()) {
            float[] w = {1, 2, 3, 4, 5, 6};
            F32Tensor t = shifted(arena, w, 2, 3, 1);
            float[] row = new float[4];
            t.readRow(1, row, 1);
            assertArrayEquals(new float[] {0, 4, 5, 6}, row);
        }
    }

    @Test
    void rejectsASegmentOfTheWrongSize() {
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> new F32Tensor(arena.allocate(20), 2, 3));
            assertEquals("F32 tensor [2, 3] needs 24 bytes, got 20", e.getMessage());
        }
    }
}
