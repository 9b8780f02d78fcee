package io.emend.core.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.core.quant.F16Tensor;
import io.emend.core.quant.F32Tensor;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.quant.Q4_0;
import io.emend.core.quant.Q4_0Tensor;
import io.emend.core.quant.Q8_0;
import io.emend.core.quant.Q8_0Tensor;
import io.emend.core.quant.WeightFormat;
import io.emend.core.quant.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** Every weight format × {scalar, vector} against the F32 scalar path on the same matrix. */
class WeightFormatCrossTest {

    private static final int ROWS = 40;
    private static final int COLS = 160;

    static WeightTensor build(Arena arena, WeightFormat f, float[] w) {
        return switch (f) {
            case F32 -> F32Tensor.of(arena, w, ROWS, COLS);
            case F16 -> F16Tensor.of(arena, w, ROWS, COLS);
            case Q8_0 -> {
                MemorySegment seg = arena.allocate(f.byteSize(ROWS, COLS));
                Q8_0.quantize(w, 0, w.length, seg, 0);
                yield new Q8_0Tensor(seg, ROWS, COLS);
            }
            case Q4_0 -> {
                MemorySegment seg = arena.allocate(f.byteSize(ROWS, COLS));
                Q4_0.quantize(w, 0, w.length, seg, 0);
                yield new Q4_0Tensor(seg, ROWS, COLS);
            }
        };
    }

    @Test
    void everyFormatAndImplementationAgreesWithTheF32ScalarPath() {
        Random random = new Random(99);
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.05);
        }
        float[] x = new float[COLS];
        for (int i = 0; i < COLS; i++) {
            x[i] = (float) random.nextGaussian();
        }
        VectorSpecies<Float> species = KernelSpecies.FLOAT != null ? KernelSpecies.FLOAT : FloatVector.SPECIES_PREFERRED;
        try (Arena arena = Arena.ofConfined()) {
            F32Tensor reference = F32Tensor.of(arena, w, ROWS, COLS);
            for (WeightFormat f : WeightFormat.values()) {
                WeightTensor t = build(arena, f, w);
                float[] dequantized = new float[COLS];
                for (int r = 0; r < ROWS; r++) {
                    t.readRow(r, dequantized, 0);
                    double absProducts = 0;
                    double roundingBound = 0;
                    for (int i = 0; i < COLS; i++) {
                        absProducts += Math.abs((double) dequantized[i] * x[i]);
                        // Each stored weight is within its format's rounding step of the original: half an F16 ulp,
                        // or one block step d (Q8_0 rounds to d/2 but its F16 scale adds a little; Q4_0's clamp
                        // makes d the honest bound), so the dot moves by at most Σ|x_i|·step_i.
                        roundingBound += Math.abs(x[i]) * Math.abs(dequantized[i] - w[r * COLS + i]);
                    }
                    float exactOnStored = F32Tensor.of(arena, dequantized, 1, COLS).dotScalar(0, x, 0);
                    float scalar = t.dotScalar(r, x, 0);
                    float vector = t.dotVector(species, r, x, 0);
                    // Float32 summation error, as in the kernel tests: 2(n+2)·2^-24·Σ|w·x|.
                    double sumError = 2.0 * (COLS + 2) * 0x1p-24 * absProducts + 1e-12;
                    assertEquals(exactOnStored, scalar, sumError, f + " scalar row " + r);
                    assertEquals(exactOnStored, vector, sumError, f + " vector row " + r);
                    float original = reference.dotScalar(r, x, 0);
                    assertEquals(original, vector, roundingBound + 2 * sumError, f + " vs F32 row " + r);
                }
                double maxStep = 0;
                for (int r = 0; r < ROWS; r++) {
                    t.readRow(r, dequantized, 0);
                    for (int i = 0; i < COLS; i++) {
                        maxStep = Math.max(maxStep, Math.abs(dequantized[i] - w[r * COLS + i]));
                    }
                }
                // Per-weight rounding: F32 none; F16 half an ulp, ≤ 2^-11·|w|; Q8_0 half a step d = amax/127 plus the
                // F16 rounding of d (≤ 127·d·2^-11); Q4_0 one step d = amax/8 (the clamp at 15 on the side opposite the
                // extreme), plus the same F16 term. amax bounds every block's largest |w|.
                double amax = 0;
                for (float v : w) {
                    amax = Math.max(amax, Math.abs(v));
                }
                double ceiling = switch (f) {
                    case F32 -> 0;
                    case F16 -> amax * 0x1p-11;
                    case Q8_0 -> amax / 254 + amax * 0x1p-11;
                    case Q4_0 -> amax / 8 + amax * 0x1p-11;
                };
                assertTrue(maxStep <= ceiling, f + ": a weight moved by " + maxStep);
            }
        }
    }
}
