package io.emend.core.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.VectorSpecies;

/**
 * A {@code [rows, cols]} weight matrix in one of the engine's storage formats, read in place from a
 * {@link MemorySegment} (memory-mapped file or off-heap arena; never copied onto the heap).
 *
 * <p>Each implementation owns its layout and keeps, side by side, the scalar definition of every kernel
 * ({@code *Scalar}) and its Vector API form ({@code *Vector}, species passed in so tests can run any width).
 * The plain methods pick the vector form with {@link KernelSpecies#FLOAT}, or the scalar one when that is null.
 */
public sealed interface WeightTensor permits F32Tensor, F16Tensor, Q8_0Tensor, Q4_0Tensor {

    int rows();

    int cols();

    WeightFormat format();

    /** The stored bytes. */
    MemorySegment data();

    /** {@code row · x[xOffset .. xOffset+cols)}. */
    default float dot(int row, float[] x, int xOffset) {
        var species = KernelSpecies.FLOAT;
        return species == null ? dotScalar(row, x, xOffset) : dotVector(species, row, x, xOffset);
    }

    float dotScalar(int row, float[] x, int xOffset);

    float dotVector(VectorSpecies<Float> species, int row, float[] x, int xOffset);

    /**
     * Dots of one weight row with four activation rows (each read from {@code xOffset}), written to
     * {@code out[0..4)}: the weight bytes are loaded and unpacked once for all four, which is what makes
     * batched decode cheaper per token than four single decodes.
     */
    default void dot4(int row, float[] x0, float[] x1, float[] x2, float[] x3, int xOffset, float[] out) {
        var species = KernelSpecies.FLOAT;
        if (species == null) {
            dot4Scalar(row, x0, x1, x2, x3, xOffset, out);
        } else {
            dot4Vector(species, row, x0, x1, x2, x3, xOffset, out);
        }
    }

    default void dot4Scalar(int row, float[] x0, float[] x1, float[] x2, float[] x3, int xOffset, float[] out) {
        out[0] = dotScalar(row, x0, xOffset);
        out[1] = dotScalar(row, x1, xOffset);
        out[2] = dotScalar(row, x2, xOffset);
        out[3] = dotScalar(row, x3, xOffset);
    }

    void dot4Vector(VectorSpecies<Float> species, int row, float[] x0, float[] x1, float[] x2, float[] x3,
                    int xOffset, float[] out);

    /** Writes row {@code row}, dequantized to F32, into {@code out[outOffset .. outOffset+cols)}. */
    void readRow(int row, float[] out, int outOffset);

    /** {@code out[outOffset + r] = row r · x} for rows {@code [fromRow, toRow)}. */
    default void matVec(float[] x, int xOffset, float[] out, int outOffset, int fromRow, int toRow) {
        for (int r = fromRow; r < toRow; r++) {
            out[outOffset + r] = dot(r, x, xOffset);
        }
    }

    /**
     * {@code out[b][outOffset + r] = row r · x[b]} for {@code b < batch} and rows {@code [fromRow, toRow)}.
     * Activations go four at a time through {@link #dot4}, so each weight row is streamed once per four rows of x.
     */
    default void matMul(float[][] x, int batch, float[][] out, int outOffset, int fromRow, int toRow) {
        float[] four = new float[4];
        int quads = batch & ~3;
        for (int r = fromRow; r < toRow; r++) {
            int b = 0;
            for (; b < quads; b += 4) {
                dot4(r, x[b], x[b + 1], x[b + 2], x[b + 3], 0, four);
                out[b][outOffset + r] = four[0];
                out[b + 1][outOffset + r] = four[1];
                out[b + 2][outOffset + r] = four[2];
                out[b + 3][outOffset + r] = four[3];
            }
            for (; b < batch; b++) {
                out[b][outOffset + r] = dot(r, x[b], 0);
            }
        }
    }

    /** Bytes of weights a full pass over the matrix reads. */
    default long byteSize() {
        return data().byteSize();
    }
}
