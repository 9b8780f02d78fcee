package io.emend.core.quant;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The panel product over several panels (nine rows: two full panels and one row over) in every format. */
class PanelMatMulTest {

    private static final int ROWS = 2 * PanelMatMul.ROWS + 1;

    @Test
    void quantizedFormatsMatchScalarDots() {
        Random random = new Random(31);
        try (Arena arena = Arena.ofConfined()) {
            IntSupplierScale scale = () -> Float.floatToFloat16((float) (random.nextGaussian() * 0.01));
            KernelAssertions.assertPanelProductAgrees(Q8_0TensorTest.random(arena, random, ROWS, 96, 1, scale::next), random);
            KernelAssertions.assertPanelProductAgrees(Q4_0TensorTest.random(arena, random, ROWS, 96, 3, scale::next), random);
        }
    }

    @Test
    void floatFormatsMatchScalarDotsWithAColumnTail() {
        Random random = new Random(32);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {5, 37, 131}) {
                float[] w = KernelAssertions.gaussian(random, ROWS * cols, 0.5);
                KernelAssertions.assertPanelProductAgrees(F32TensorTest.shifted(arena, w, ROWS, cols, 1), random);
                short[] h = new short[w.length];
                for (int i = 0; i < w.length; i++) {
                    h[i] = Float.floatToFloat16(w[i]);
                }
                KernelAssertions.assertPanelProductAgrees(F16TensorTest.shifted(arena, h, ROWS, cols, 1), random);
            }
        }
    }

    @FunctionalInterface
    private interface IntSupplierScale {
        int next();
    }
}
