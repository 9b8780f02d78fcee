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

class Q8_0TensorTest {

    /** Blocks with random int8 quants and scales from {@code scales}, starting {@code shift} bytes into a segment. */
    static Q8_0Tensor random(Arena arena, Random random, int rows, int cols, int shift, IntSupplier scales) {
        long bytes = WeightFormat.Q8_0.byteSize(rows, cols);
        MemorySegment data = arena.allocate(bytes + shift, 64).asSlice(shift, bytes);
        for (long at = 0; at < bytes; at += Q8_0Tensor.BLOCK_BYTES) {
            data.set(F16Tensor.LE_SHORT, at, (short) scales.getAsInt());
            for (int i = 0; i < WeightFormat.BLOCK; i++) {
                data.set(ValueLayout.JAVA_BYTE, at + Q8_0Tensor.SCALE_BYTES + i, (byte) random.nextInt(256));
            }
        }
        return new Q8_0Tensor(data, rows, cols);
    }

    @Test
    void vectorMatchesScalarAtEveryWidth() {
        Random random = new Random(21);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {32, 96, 288}) {
                for (int shift : new int[] {0, 1, 17}) {
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
        Random random = new Random(22);
        // 0x0000 zero, 0x0001 the smallest subnormal half (2^-24), 0x03ff the largest subnormal, 0x7bff = 65504.
        short[] scales = {0x0000, (short) 0x8000, 0x0001, 0x03ff, 0x7bff, (short) 0xfbff};
        int[] next = {0};
        try (Arena arena = Arena.ofConfined()) {
            var t = random(arena, random, 4, 192, 1, () -> scales[next[0]++ % scales.length]);
            KernelAssertions.assertKernelsAgree(t, random);
        }
    }

    @Test
    void readsLlamaCppBlockLayout() {
        // One block as llama.cpp writes it: F16 scale 0.5 (0x3800) little-endian, then 32 int8 quants.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Q8_0Tensor.BLOCK_BYTES);
            data.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x00);
            data.set(ValueLayout.JAVA_BYTE, 1, (byte) 0x38);
            float[] expected = new float[32];
            for (int i = 0; i < 32; i++) {
                byte q = (byte) (i * 9 - 128);
                data.set(ValueLayout.JAVA_BYTE, 2 + i, q);
                expected[i] = 0.5f * q;
            }
            var t = new Q8_0Tensor(data, 1, 32);
            float[] row = new float[32];
            t.readRow(0, row, 0);
            assertArrayEquals(expected, row);
        }
    }

    @Test
    void rejectsColumnsOffTheBlockSize() {
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Q8_0Tensor(arena.allocate(34), 1, 31));
            assertEquals("Q8_0 tensor [1, 31]: columns must be a positive multiple of 32", e.getMessage());
            var size = assertThrows(IllegalArgumentException.class, () -> new Q8_0Tensor(arena.allocate(33), 1, 32));
            assertEquals("Q8_0 tensor [1, 32] needs 34 bytes, got 33", size.getMessage());
        }
    }
}
