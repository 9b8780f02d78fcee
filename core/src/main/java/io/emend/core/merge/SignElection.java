package io.emend.core.merge;

import io.emend.core.quant.KernelSpecies;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * TIES' disjoint sum (Yadav et al., 2023): the sign of each element is elected by the summed mass Σₖ wₖ·δₖ (+ when
 * it is ≥ 0), and only the weighted deltas that are non-zero and of that sign are summed, with their weights as the
 * divisor of the disjoint mean. The scalar loop branches on random signs, which the CPU mispredicts about half the
 * time (it was the largest cost of a TIES merge); the vector kernel selects with lane masks instead. Both add the
 * same doubles in the same order, so they give identical bits (a masked-off lane keeps its sum, where the scalar
 * adds +0.0 to a sum that is never -0.0).
 */
final class SignElection {

    private static final VectorSpecies<Float> SPECIES = KernelSpecies.FLOAT;
    /** Doubles of the same width, a constant (a species computed in the kernel boxes every vector). */
    private static final VectorSpecies<Double> WIDE = SPECIES == null ? null : WeightedSum.wide(SPECIES);

    private SignElection() {
    }

    /**
     * For each element: when {@code w·d[i]} is non-zero and has the sign elected by {@code mass[i]}, adds it to
     * {@code mixed[i]} and {@code w} to {@code divisor[i]}.
     */
    static void addAgreeing(double[] mass, double[] mixed, double[] divisor, float[] d, double w, int len) {
        if (SPECIES == null) {
            addAgreeingScalar(mass, mixed, divisor, d, w, len);
        } else {
            addAgreeingVector(SPECIES, WIDE, mass, mixed, divisor, d, w, len);
        }
    }

    /** The definition. */
    static void addAgreeingScalar(double[] mass, double[] mixed, double[] divisor, float[] d, double w, int len) {
        for (int i = 0; i < len; i++) {
            double wd = w * d[i];
            // the elected sign is + when the summed mass is >= 0; zero deltas never agree
            boolean agrees = mass[i] >= 0 ? wd > 0 : wd < 0;
            mixed[i] += agrees ? wd : 0;
            divisor[i] += agrees ? w : 0;
        }
    }

    /** Whole vectors of {@code d}, each widened into two double vectors of {@code wide}, then the scalar tail. */
    static void addAgreeingVector(VectorSpecies<Float> species, VectorSpecies<Double> wide, double[] mass,
                                  double[] mixed, double[] divisor, float[] d, double w, int len) {
        int half = wide.length();
        int upper = species.loopBound(len);
        int i = 0;
        for (; i < upper; i += species.length()) {
            FloatVector v = FloatVector.fromArray(species, d, i);
            DoubleVector low = ((DoubleVector) v.convertShape(VectorOperators.F2D, wide, 0)).mul(w);
            DoubleVector high = ((DoubleVector) v.convertShape(VectorOperators.F2D, wide, 1)).mul(w);
            addAgreeingHalfVector(wide, low, w, mass, mixed, divisor, i);
            addAgreeingHalfVector(wide, high, w, mass, mixed, divisor, i + half);
        }
        for (; i < len; i++) {
            double wd = w * d[i];
            boolean agrees = mass[i] >= 0 ? wd > 0 : wd < 0;
            mixed[i] += agrees ? wd : 0;
            divisor[i] += agrees ? w : 0;
        }
    }

    private static void addAgreeingHalfVector(VectorSpecies<Double> wide, DoubleVector wd, double w, double[] mass,
                                              double[] mixed, double[] divisor, int at) {
        VectorMask<Double> plus = DoubleVector.fromArray(wide, mass, at).compare(VectorOperators.GE, 0.0);
        VectorMask<Double> agrees = plus.and(wd.compare(VectorOperators.GT, 0.0))
                .or(plus.not().and(wd.compare(VectorOperators.LT, 0.0)));
        DoubleVector.fromArray(wide, mixed, at).add(wd, agrees).intoArray(mixed, at);
        DoubleVector.fromArray(wide, divisor, at).add(w, agrees).intoArray(divisor, at);
    }
}
