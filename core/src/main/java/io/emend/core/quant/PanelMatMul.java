package io.emend.core.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The product of a weight matrix with many activation rows (a prefill chunk, a wide batch), for any weight format:
 * {@link #ROWS} weight rows at a time are dequantized once into an F32 panel, and a register-blocked kernel multiplies
 * that panel with the activations four at a time, sixteen accumulators for 4 × 4 dots, so that every weight and every
 * activation vector loaded feeds four FMAs.
 *
 * <p>The per-row kernels ({@code dot4}) unpack a block for every four activation rows, which at a 128-token chunk is
 * 32 unpackings per weight and made prefill several times slower than llama.cpp's; here a weight is unpacked once per
 * call, and the rest is F32 multiply-adds from L1/L2.
 */
public final class PanelMatMul {

    /** Weight rows dequantized together (the kernel's register block is this many rows by four activations). */
    static final int ROWS = 4;
    /** Activation rows from which the panel product beats four-at-a-time unpacking; below it {@code dot4} is used. */
    public static final int MIN_BATCH = 8;

    private PanelMatMul() {
    }

    /**
     * {@code out[b][outOffset + r] = row r · x[b]} for {@code b < batch} and rows {@code [fromRow, toRow)}, each
     * {@code x[b]} read from index 0. Takes the vector kernel with {@link KernelSpecies#FLOAT}, else the scalar one.
     */
    public static void matMul(WeightTensor w, float[][] x, int batch, float[][] out, int outOffset, int fromRow, int toRow) {
        if (KernelSpecies.FLOAT == null) {
            matMulScalar(w, x, batch, out, outOffset, fromRow, toRow);
            return;
        }
        float[] panel = new float[ROWS * w.cols()];
        float[] dots = new float[ROWS * 4];
        for (int r0 = fromRow; r0 < toRow; r0 += ROWS) {
            panelRows(w, x, batch, out, outOffset, r0, Math.min(ROWS, toRow - r0), panel, dots);
        }
    }

    /** The definition: each output the format's scalar dot. */
    public static void matMulScalar(WeightTensor w, float[][] x, int batch, float[][] out, int outOffset, int fromRow,
                                    int toRow) {
        for (int r = fromRow; r < toRow; r++) {
            for (int b = 0; b < batch; b++) {
                out[b][outOffset + r] = w.dotScalar(r, x[b], 0);
            }
        }
    }

    /**
     * Rows {@code [r0, r0 + rows)} ({@code rows <= ROWS}) dequantized into {@code panel}, times every activation.
     *
     * <p>It passes {@link KernelSpecies#FLOAT} itself rather than taking a species: one {@link #matMul} runs for
     * milliseconds and is called rarely, so C2 compiles this method and {@link #panelVector} on their own (and the
     * loops on-stack) long before it compiles {@code matMul}; a species parameter would then not be a compile-time
     * constant and every vector operation would fall back to boxed Java (measured: 20x slower).
     */
    private static void panelRows(WeightTensor w, float[][] x, int batch, float[][] out, int outOffset, int r0, int rows,
                                  float[] panel, float[] dots) {
        int cols = w.cols();
        for (int i = 0; i < rows; i++) {
            w.readRow(r0 + i, panel, i * cols);
        }
        if (rows < ROWS) {
            java.util.Arrays.fill(panel, rows * cols, ROWS * cols, 0f);
        }
        for (int b = 0; b < batch; b += 4) {
            // A short last group repeats its last activation row: the extra dots are computed and dropped.
            int n = Math.min(4, batch - b);
            matMul(panel, cols, x[b], x[b + Math.min(1, n - 1)], x[b + Math.min(2, n - 1)],
                    x[b + Math.min(3, n - 1)], dots);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < n; j++) {
                    out[b + j][outOffset + r0 + i] = dots[i * 4 + j];
                }
            }
        }
    }

    /**
     * {@link #panelVector} with {@link KernelSpecies#FLOAT}, as a compiled method of its own: named {@code matMul}, the
     * compiler directive of {@link KernelSpecies} keeps it out of {@link #panelRows} and inlines the kernel into it,
     * where the species is a constant. Inlined into the row loop instead, the sixteen-accumulator kernel ran at half
     * the speed (2048 × 768 Q8_0 and Q4_0, 16 and 128 activations: 30-42 against 52-75 G MAC/s of thread CPU time).
     */
    private static void matMul(float[] panel, int cols, float[] x0, float[] x1, float[] x2, float[] x3,
                               float[] dots) {
        panelVector(KernelSpecies.FLOAT, panel, cols, x0, x1, x2, x3, dots);
    }

    /**
     * The 4 × 4 dots of the panel's four rows with {@code x0..x3}: {@code dots[4i + j] = panel row i · xj}. Vectors
     * over the whole columns, then a scalar tail for {@code cols} not a multiple of the species' length.
     */
    static void panelVector(VectorSpecies<Float> species, float[] panel, int cols, float[] x0, float[] x1, float[] x2,
                            float[] x3, float[] dots) {
        FloatVector a00 = FloatVector.zero(species), a01 = FloatVector.zero(species);
        FloatVector a02 = FloatVector.zero(species), a03 = FloatVector.zero(species);
        FloatVector a10 = FloatVector.zero(species), a11 = FloatVector.zero(species);
        FloatVector a12 = FloatVector.zero(species), a13 = FloatVector.zero(species);
        FloatVector a20 = FloatVector.zero(species), a21 = FloatVector.zero(species);
        FloatVector a22 = FloatVector.zero(species), a23 = FloatVector.zero(species);
        FloatVector a30 = FloatVector.zero(species), a31 = FloatVector.zero(species);
        FloatVector a32 = FloatVector.zero(species), a33 = FloatVector.zero(species);
        int bound = species.loopBound(cols);
        int c = 0;
        for (; c < bound; c += species.length()) {
            FloatVector v0 = FloatVector.fromArray(species, x0, c);
            FloatVector v1 = FloatVector.fromArray(species, x1, c);
            FloatVector v2 = FloatVector.fromArray(species, x2, c);
            FloatVector v3 = FloatVector.fromArray(species, x3, c);
            FloatVector w0 = FloatVector.fromArray(species, panel, c);
            a00 = w0.fma(v0, a00);
            a01 = w0.fma(v1, a01);
            a02 = w0.fma(v2, a02);
            a03 = w0.fma(v3, a03);
            FloatVector w1 = FloatVector.fromArray(species, panel, cols + c);
            a10 = w1.fma(v0, a10);
            a11 = w1.fma(v1, a11);
            a12 = w1.fma(v2, a12);
            a13 = w1.fma(v3, a13);
            FloatVector w2 = FloatVector.fromArray(species, panel, 2 * cols + c);
            a20 = w2.fma(v0, a20);
            a21 = w2.fma(v1, a21);
            a22 = w2.fma(v2, a22);
            a23 = w2.fma(v3, a23);
            FloatVector w3 = FloatVector.fromArray(species, panel, 3 * cols + c);
            a30 = w3.fma(v0, a30);
            a31 = w3.fma(v1, a31);
            a32 = w3.fma(v2, a32);
            a33 = w3.fma(v3, a33);
        }
        dots[0] = a00.reduceLanes(VectorOperators.ADD);
        dots[1] = a01.reduceLanes(VectorOperators.ADD);
        dots[2] = a02.reduceLanes(VectorOperators.ADD);
        dots[3] = a03.reduceLanes(VectorOperators.ADD);
        dots[4] = a10.reduceLanes(VectorOperators.ADD);
        dots[5] = a11.reduceLanes(VectorOperators.ADD);
        dots[6] = a12.reduceLanes(VectorOperators.ADD);
        dots[7] = a13.reduceLanes(VectorOperators.ADD);
        dots[8] = a20.reduceLanes(VectorOperators.ADD);
        dots[9] = a21.reduceLanes(VectorOperators.ADD);
        dots[10] = a22.reduceLanes(VectorOperators.ADD);
        dots[11] = a23.reduceLanes(VectorOperators.ADD);
        dots[12] = a30.reduceLanes(VectorOperators.ADD);
        dots[13] = a31.reduceLanes(VectorOperators.ADD);
        dots[14] = a32.reduceLanes(VectorOperators.ADD);
        dots[15] = a33.reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            float[] xs = {x0[c], x1[c], x2[c], x3[c]};
            for (int i = 0; i < ROWS; i++) {
                float wv = panel[i * cols + c];
                for (int j = 0; j < 4; j++) {
                    dots[i * 4 + j] += wv * xs[j];
                }
            }
        }
    }
}
