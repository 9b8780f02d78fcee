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
    float dot(int row, float[] x, int xOffset);

    float dotScalar(int row, float[] x, int xOffset);

    float dotVector(VectorSpecies<Float> species, int row, float[] x, int xOffset);

    /**
     * {@code out[i] = row_i · x} for four weight rows (which may repeat), each activation load shared by the four:
     * the batch-1 kernel. {@link #matVec} gives it one row from each quarter of its range (see {@link RowStreams}),
     * so that the four rows are four sequential streams of weights in flight at once. Q4_0, whose batch-1 product is
     * bound by unpacking rather than memory, keeps one row at a time and this plain form (see its {@code matVec}).
     */
    default void dot4RowsVector(VectorSpecies<Float> species, int row0, int row1, int row2, int row3, float[] x,
                                int xOffset, float[] out) {
        out[0] = dotVector(species, row0, x, xOffset);
        out[1] = dotVector(species, row1, x, xOffset);
        out[2] = dotVector(species, row2, x, xOffset);
        out[3] = dotVector(species, row3, x, xOffset);
    }

    /** The definition of {@link #dot4RowsVector}: four scalar dots. */
    default void dot4RowsScalar(int row0, int row1, int row2, int row3, float[] x, int xOffset, float[] out) {
        out[0] = dotScalar(row0, x, xOffset);
        out[1] = dotScalar(row1, x, xOffset);
        out[2] = dotScalar(row2, x, xOffset);
        out[3] = dotScalar(row3, x, xOffset);
    }

    /**
     * Dots of one weight row with four activation rows (each read from {@code xOffset}), written to
     * {@code out[0..4)}: the weight bytes are loaded and unpacked once for all four, which is what makes
     * batched decode cheaper per token than four single decodes.
     */
    void dot4(int row, float[] x0, float[] x1, float[] x2, float[] x3, int xOffset, float[] out);

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

    /** The definition of {@link #readRow}; formats whose rows need unpacking override it and the vector form. */
    default void readRowScalar(int row, float[] out, int outOffset) {
        readRow(row, out, outOffset);
    }

    /** {@link #readRow} with the given species; must equal {@link #readRowScalar} exactly (one product per weight). */
    default void readRowVector(VectorSpecies<Float> species, int row, float[] out, int outOffset) {
        readRowScalar(row, out, outOffset);
    }

    /**
     * {@code out[outOffset + r] = row r · x} for rows {@code [fromRow, toRow)}: the batch-1 product, four rows at a
     * time through {@link #dot4RowsVector}, one from each quarter of the range.
     */
    void matVec(float[] x, int xOffset, float[] out, int outOffset, int fromRow, int toRow);

    /**
     * {@code out[b][outOffset + r] = row r · x[b]} for {@code b < batch} and rows {@code [fromRow, toRow)}.
     * Below {@link PanelMatMul#MIN_BATCH} rows of x, activations go four at a time through {@link #dot4}, so each
     * weight row is streamed once per four rows of x; from it on, {@link PanelMatMul} dequantizes each weight once.
     */
    void matMul(float[][] x, int batch, float[][] out, int outOffset, int fromRow, int toRow);

    /** Bytes of weights a full pass over the matrix reads. */
    default long byteSize() {
        return data().byteSize();
    }
}
