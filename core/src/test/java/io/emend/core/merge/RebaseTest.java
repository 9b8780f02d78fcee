package io.emend.core.merge;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RebaseTest {

    /**
     * Every width and tail length; bases with -0.0, subnormals and huge values; mixed sums of zero (the base must
     * keep its bits), sums that overflow F32 on rounding; with and without normalization, λ = 0 among them.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorEqualsScalarBitForBit(int bits) {
        VectorSpecies<Double> wide = WeightedSum.wide(VectorSpecies.of(float.class, VectorShape.forBitSize(bits)));
        VectorSpecies<Float> half = VectorSpecies.of(float.class, VectorShape.forBitSize(bits / 2));
        Random r = new Random(bits);
        for (int len = 0; len <= 37; len++) {
            int n = len + 3;
            float[] base = new float[n];
            double[] mixed = new double[n];
            double[] divisor = new double[n];
            for (int i = 0; i < n; i++) {
                base[i] = switch (i % 5) {
                    case 0 -> -0f;
                    case 1 -> Float.MIN_VALUE;
                    case 2 -> 3.4e38f;
                    default -> (float) r.nextGaussian();
                };
                mixed[i] = switch (i % 4) {
                    case 0 -> 0.0;
                    case 1 -> 1e38;
                    default -> r.nextGaussian() * 1e-3;
                };
                divisor[i] = 1 + r.nextInt(3);
            }
            for (boolean normalize : new boolean[] {true, false}) {
                for (double lambda : new double[] {1, 0.37, 0}) {
                    float[] scalar = new float[n];
                    float[] vector = new float[n];
                    Rebase.applyScalar(base, mixed, divisor, normalize, lambda, scalar, len);
                    Rebase.applyVector(half, wide, base, mixed, divisor, normalize, lambda, vector, len);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(vector[i]),
                                "len " + len + ", element " + i + ", normalize " + normalize + ", λ " + lambda);
                    }
                }
            }
        }
    }
}
