package io.emend.core.merge;

import io.emend.core.quant.KernelSpecies;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The last step of task arithmetic: {@code out = base + λ·mixed (/ divisor)}, in double, rounded once to F32; where
 * the scaled delta is exactly zero the base's own bits are kept (including -0.0), so λ = 0 returns the base exactly.
 * The scalar loop's select is not vectorized by C2; the vector kernel works on float vectors of half the kernel
 * width, each widened to one double vector, and does the same operations, so the bits are identical.
 */
final class Rebase {

    private static final VectorSpecies<Double> WIDE = KernelSpecies.FLOAT == null ? null
            : WeightedSum.wide(KernelSpecies.FLOAT);
    /** Floats with the lane count of {@link #WIDE} (half its width). */
    private static final VectorSpecies<Float> HALF = WIDE == null ? null
            : VectorSpecies.of(float.class, VectorShape.forBitSize(WIDE.vectorBitSize() / 2));

    private Rebase() {
    }

    /** {@code out[i] = base[i] + λ·(normalize ? mixed[i] / divisor[i] : mixed[i])} for {@code i < len}. */
    static void apply(float[] base, double[] mixed, double[] divisor, boolean normalize, double lambda, float[] out,
                      int len) {
        if (WIDE == null) {
            applyScalar(base, mixed, divisor, normalize, lambda, out, len);
        } else {
            applyVector(HALF, WIDE, base, mixed, divisor, normalize, lambda, out, len);
        }
    }

    /** The definition. */
    static void applyScalar(float[] base, double[] mixed, double[] divisor, boolean normalize, double lambda,
                            float[] out, int len) {
        for (int i = 0; i < len; i++) {
            double delta = (normalize ? mixed[i] / divisor[i] : mixed[i]) * lambda;
            out[i] = delta == 0 ? base[i] : (float) (base[i] + delta);
        }
    }

    /** {@code half} has the lane count of {@code wide}; whole vectors, then the scalar tail. */
    static void applyVector(VectorSpecies<Float> half, VectorSpecies<Double> wide, float[] base, double[] mixed,
                            double[] divisor, boolean normalize, double lambda, float[] out, int len) {
        int upper = half.loopBound(len);
        int i = 0;
        for (; i < upper; i += half.length()) {
            DoubleVector delta = DoubleVector.fromArray(wide, mixed, i);
            if (normalize) {
                delta = delta.div(DoubleVector.fromArray(wide, divisor, i));
            }
            delta = delta.mul(lambda);
            FloatVector b = FloatVector.fromArray(half, base, i);
            DoubleVector sum = ((DoubleVector) b.convertShape(VectorOperators.F2D, wide, 0)).add(delta);
            FloatVector rounded = (FloatVector) sum.convertShape(VectorOperators.D2F, half, 0);
            VectorMask<Float> zero = delta.compare(VectorOperators.EQ, 0.0).cast(half);
            rounded.blend(b, zero).intoArray(out, i);
        }
        for (; i < len; i++) {
            double delta = (normalize ? mixed[i] / divisor[i] : mixed[i]) * lambda;
            out[i] = delta == 0 ? base[i] : (float) (base[i] + delta);
        }
    }
}
