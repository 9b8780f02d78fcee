package io.emend.core.merge;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class SignElectionTest {

    /**
     * Every width, every length up to a few of the widest vectors (every tail length), masses of both signs and of
     * both zeros, deltas that are zero, tiny and huge, weights of both signs: the kernel and the definition sum the
     * same doubles, so the bits must be identical.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorEqualsScalarBitForBit(int bits) {
        VectorSpecies<Float> species = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        VectorSpecies<Double> wide = WeightedSum.wide(species);
        Random r = new Random(bits);
        for (int len = 0; len <= 67; len++) {
            int n = len + 5;
            float[] d = new float[n];
            double[] mass = new double[n];
            double[] mixed = new double[n];
            double[] divisor = new double[n];
            for (int i = 0; i < n; i++) {
                d[i] = switch (i % 6) {
                    case 0 -> 0f;
                    case 1 -> -0f;
                    case 2 -> Float.MIN_VALUE;
                    case 3 -> -3e38f;
                    default -> (float) r.nextGaussian();
                };
                mass[i] = switch (i % 5) {
                    case 0 -> 0.0;
                    case 1 -> -0.0;
                    default -> r.nextGaussian();
                };
                mixed[i] = r.nextInt(3) == 0 ? 0 : r.nextGaussian();
                divisor[i] = r.nextInt(3);
            }
            for (double w : new double[] {0.7, -1.3, 0}) {
                double[] mixedScalar = mixed.clone();
                double[] divisorScalar = divisor.clone();
                double[] mixedVector = mixed.clone();
                double[] divisorVector = divisor.clone();
                SignElection.addAgreeingScalar(mass, mixedScalar, divisorScalar, d, w, len);
                SignElection.addAgreeingVector(species, wide, mass, mixedVector, divisorVector, d, w, len);
                assertArrayEquals(mixedScalar, mixedVector, 0.0, "mixed, len " + len + ", w " + w);
                assertArrayEquals(divisorScalar, divisorVector, 0.0, "divisor, len " + len + ", w " + w);
            }
        }
    }
}
