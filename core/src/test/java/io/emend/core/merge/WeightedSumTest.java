package io.emend.core.merge;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class WeightedSumTest {

    /**
     * Every width on any host (the Vector API emulates widths the CPU lacks), every length up to a few vectors of
     * the widest (so every tail length occurs), weights that are not powers of two, subnormal, zero and huge inputs:
     * the vector kernel does the scalar's multiply and add per element, so the bits must be identical.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorEqualsScalarBitForBit(int bits) {
        VectorSpecies<Float> species = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        Random r = new Random(bits);
        for (int len = 0; len <= 67; len++) {
            float[] x = new float[len + 5];
            double[] start = new double[len + 5];
            for (int i = 0; i < x.length; i++) {
                x[i] = switch (i % 7) {
                    case 0 -> Float.MIN_VALUE * (i + 1);
                    case 1 -> 0f;
                    case 2 -> -3e38f;
                    default -> (float) r.nextGaussian();
                };
                start[i] = r.nextGaussian() * 1e3;
            }
            for (double w : new double[] {0.3, -1.7, 0}) {
                double[] scalar = start.clone();
                double[] vector = start.clone();
                WeightedSum.addScalar(scalar, x, w, len);
                WeightedSum.addVector(species, WeightedSum.wide(species), vector, x, w, len);
                assertArrayEquals(scalar, vector, 0.0, "len " + len + ", w " + w);
            }
        }
    }
}
