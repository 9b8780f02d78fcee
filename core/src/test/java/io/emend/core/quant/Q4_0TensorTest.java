package io.emend.core.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

class Q4_0TensorTest {

    static Q4_0Tensor random(Arena arena, Random random, int rows, int cols, int shift, IntSupplier scales) {
        long bytes = WeightFormat.Q4_0.byteSize(rows, cols);
        MemorySegment data = arena.allocate(bytes + shift, 64).asSlice(shift, bytes);
        for (long at = 0; at < bytes; at += Q4_0Tensor.BLOCK_BYTES) {
            data.set(F16Tensor.LE_SHORT, at, (short) scales.getAsInt());
            for (int i = 0; i < Q4_0Tensor.QUANT_BYTES; i++) {
                data.set(ValueLayout.JAVA_BYTE, at + Q4_0Tensor.SCALE_BYTES + i, (byte) random.nextInt(256));
            }
        }
        return new Q4_0Tensor(data, rows, cols);
    }

    @Test
    void vectorMatchesScalarAtEveryWidth() {
        Random random = new Random(31);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {32, 96, 288}) {
                for (int shift : new int[] {0, 1, 9}) {
                    int rows = shift == 1 ? 13 : 3; // 13 rows: matVec's four streams of unequal length
                    var t = random(arena, random, rows, cols, shift,
                            () -> Float.floatToFloat16((float) (random.nextGaussian() * 0.01)));
                    KernelAssertions.assertKernelsAgree(t, random);
                }
            }
        }
    }

    @Test
    void zeroSubnormalAndHugeScales() {
        Random random = new Random(32);
        short[] scales = {0x0000, (short) 0x8000, 0x0001, 0x03ff, 0x7bff, (short) 0xfbff};
        int[] next = {0};
        try (Arena arena = Arena.ofConfined()) {
            var t = random(arena, random, 4, 192, 3, () -> scales[next[0]++ % scales.length]);
            KernelAssertions.assertKernelsAgree(t, random);
        }
    }

    @Test
    void lowNibblesHoldTheFirstSixteenWeights() {
        // llama.cpp's block_q4_0: byte j = (q[j] & 0xF) | (q[j + 16] << 4), q stored with +8. Scale 2.0 = 0x4000.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Q4_0Tensor.BLOCK_BYTES);
            data.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x00);
            data.set(ValueLayout.JAVA_BYTE, 1, (byte) 0x40);
            float[] expected = new float[32];
            for (int j = 0; j < 16; j++) {
                int low = j;
                int high = 15 - j;
                data.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (low | high << 4));
                expected[j] = 2f * (low - 8);
                expected[j + 16] = 2f * (high - 8);
            }
            var t = new Q4_0Tensor(data, 1, 32);
            float[] row = new float[32];
            t.readRow(0, row, 0);
            assertArrayEquals(expected, row);
            float[] x = new float[32];
            x[17] = 1f; // weight 17 = high nibble of byte 1 = 14 → 2·(14-8) = 12
            assertEquals(12f, t.dotScalar(0, x, 0));
            for (var s : KernelAssertions.WIDTHS) {
                assertEquals(12f, t.dotVector(s, 0, x, 0), s.toString());
            }
        }
    }

    @Test
    void rejectsColumnsOffTheBlockSize() {
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Q4_0Tensor(arena.allocate(18), 1, 16));
            assertEquals("Q4_0 tensor [1, 16]: columns must be a positive multiple of 32", e.getMessage());
        }
    }
}
