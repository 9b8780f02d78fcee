package io.emend.core.merge;

import io.emend.core.quant.KernelSpecies;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The inner step of linear and task-arithmetic merges, {@code acc[i] += w·x[i]}: F32 inputs widened to double and
 * summed in double, so that merging a model with itself gives it back bit for bit. The vector kernel widens each
 * float vector into two double vectors of the same width and does the same multiply, then add (no fused
 * multiply-add: Java's scalar {@code a += w * x} rounds twice), so both paths give identical bits.
 */
final class WeightedSum {

    /** The project's kernel width ({@code -Demend.vector.bits}); null forces the scalar reference. */
    private static final VectorSpecies<Float> SPECIES = KernelSpecies.FLOAT;
    /**
     * Doubles of the same width (half the lanes). A constant too: a species computed inside the kernel is not one to
     * the JIT, which then boxes every vector.
     */
    private static final VectorSpecies<Double> WIDE = SPECIES == null ? null : wide(SPECIES);

    private WeightedSum() {
    }

    /** {@code acc[0, len) += w · x[0, len)}. */
    static void add(double[] acc, float[] x, double w, int len) {
        if (SPECIES == null) {
            addScalar(acc, x, w, len);
        } else {
            addVector(SPECIES, WIDE, acc, x, w, len);
        }
    }

    /** The definition. */
    static void addScalar(double[] acc, float[] x, double w, int len) {
        for (int i = 0; i < len; i++) {
            acc[i] += w * x[i];
        }
    }

    /** The double species of {@code species}' width. */
    static VectorSpecies<Double> wide(VectorSpecies<Float> species) {
        return VectorSpecies.of(double.class, species.vectorShape());
    }

    /** Vector lanes over the whole vectors of {@code x}, then the scalar tail; {@code wide} is {@link #wide}. */
    static void addVector(VectorSpecies<Float> species, VectorSpecies<Double> wide, double[] acc, float[] x, double w,
                          int len) {
        int half = wide.length();
        int upper = species.loopBound(len);
        int i = 0;
        for (; i < upper; i += species.length()) {
            FloatVector v = FloatVector.fromArray(species, x, i);
            DoubleVector low = (DoubleVector) v.convertShape(VectorOperators.F2D, wide, 0);
            DoubleVector high = (DoubleVector) v.convertShape(VectorOperators.F2D, wide, 1);
            DoubleVector.fromArray(wide, acc, i).add(low.mul(w)).intoArray(acc, i);
            DoubleVector.fromArray(wide, acc, i + half).add(high.mul(w)).intoArray(acc, i + half);
        }
        for (; i < len; i++) {
            acc[i] += w * x[i];
        }
    }
}
