package io.emend.core.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * llama.cpp's Q8_0 ({@code block_q8_0}): each block of 32 weights is an F16 scale {@code d} followed by 32
 * signed bytes {@code q}; weight {@code i} of the block is {@code d * q[i]}. Rows are whole blocks.
 */
public final class Q8_0Tensor implements WeightTensor {

    /** Bytes of the block's F16 scale. */
    public static final int SCALE_BYTES = Q8_0.SCALE_BYTES;
    /** One F16 scale and {@link WeightFormat#BLOCK} int8 quants, as the codec writes them. */
    public static final int BLOCK_BYTES = Q8_0.BYTES_PER_BLOCK;

    private final MemorySegment data; // [rows, cols / 32] blocks of 34 bytes
    private final int rows;
    private final int cols;
    private final int blocksPerRow;

    public Q8_0Tensor(MemorySegment data, int rows, int cols) {
        if (rows <= 0 || cols <= 0 || cols % WeightFormat.BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0 tensor [" + rows + ", " + cols + "]: columns must be a positive multiple of "
                    + WeightFormat.BLOCK);
        }
        long expected = WeightFormat.Q8_0.byteSize(rows, cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("Q8_0 tensor [" + rows + ", " + cols + "] needs " + expected
                    + " bytes, got " + data.byteSize());
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.blocksPerRow = cols / WeightFormat.BLOCK;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public WeightFormat format() {
        return WeightFormat.Q8_0;
    }

    @Override
    public MemorySegment data() {
        return data;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * blocksPerRow + block) * BLOCK_BYTES;
    }

    private float scale(long blockOffset) {
        return Float.float16ToFloat(data.get(F16Tensor.LE_SHORT, blockOffset));
    }

    // Overrides of the interface defaults: a call from here is monomorphic, so the JIT inlines the kernel with the
    // constant species of KernelSpecies.FLOAT (a non-constant species makes the Vector API fall back to slow Java).
    @Override
    public float dot(int row, float[] x, int xOffset) {
        var species = KernelSpecies.FLOAT;
        return species == null ? dotScalar(row, x, xOffset) : dotVector(species, row, x, xOffset);
    }

    @Override
    public void dot4(int row, float[] x0, float[] x1, float[] x2, float[] x3, int xOffset, float[] out) {
        var species = KernelSpecies.FLOAT;
        if (species == null) {
            dot4Scalar(row, x0, x1, x2, x3, xOffset, out);
        } else {
            dot4Vector(species, row, x0, x1, x2, x3, xOffset, out);
        }
    }

    @Override
    public void matVec(float[] x, int xOffset, float[] out, int outOffset, int fromRow, int toRow) {
        float[] four = new float[RowStreams.STREAMS];
        int steps = RowStreams.steps(fromRow, toRow);
        for (int step = 0; step < steps; step++) {
            int r0 = RowStreams.row(fromRow, toRow, steps, 0, step);
            int r1 = RowStreams.row(fromRow, toRow, steps, 1, step);
            int r2 = RowStreams.row(fromRow, toRow, steps, 2, step);
            int r3 = RowStreams.row(fromRow, toRow, steps, 3, step);
            if (KernelSpecies.FLOAT == null) {
                dot4RowsScalar(r0, r1, r2, r3, x, xOffset, four);
            } else {
                // The species is read at the call, not held in a local: C2 compiles this loop on-stack first, where a
                // local species is no constant (see KernelSpecies).
                dot4RowsVector(KernelSpecies.FLOAT, r0, r1, r2, r3, x, xOffset, four);
            }
            out[outOffset + r0] = four[0];
            out[outOffset + r1] = four[1];
            out[outOffset + r2] = four[2];
            out[outOffset + r3] = four[3];
        }
    }

    /**
     * Dots of four weight rows with one activation, {@code out[0..4)}: each activation vector is loaded once for the
     * four rows, each row has its own chain, and the per-block scale is applied once per block and row.
     */
    @Override
    public void dot4RowsVector(VectorSpecies<Float> species, int row0, int row1, int row2, int row3, float[] x,
                               int xOffset, float[] out) {
        VectorSpecies<Byte> bytes = byteSpecies(species);
        int lanes = species.length();
        int perLoad = bytes.length();
        int parts = perLoad / lanes;
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        long base0 = blockOffset(row0, 0);
        long base1 = blockOffset(row1, 0);
        long base2 = blockOffset(row2, 0);
        long base3 = blockOffset(row3, 0);
        for (int b = 0; b < blocksPerRow; b++) {
            long block = (long) b * BLOCK_BYTES;
            int xb = xOffset + b * WeightFormat.BLOCK;
            FloatVector s0 = FloatVector.zero(species);
            FloatVector s1 = FloatVector.zero(species);
            FloatVector s2 = FloatVector.zero(species);
            FloatVector s3 = FloatVector.zero(species);
            for (int j = 0; j < WeightFormat.BLOCK; j += perLoad) {
                long q = block + SCALE_BYTES + j;
                ByteVector q0 = ByteVector.fromMemorySegment(bytes, data, base0 + q, ByteOrder.LITTLE_ENDIAN);
                ByteVector q1 = ByteVector.fromMemorySegment(bytes, data, base1 + q, ByteOrder.LITTLE_ENDIAN);
                ByteVector q2 = ByteVector.fromMemorySegment(bytes, data, base2 + q, ByteOrder.LITTLE_ENDIAN);
                ByteVector q3 = ByteVector.fromMemorySegment(bytes, data, base3 + q, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    FloatVector xv = FloatVector.fromArray(species, x, xb + j + p * lanes);
                    s0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, species, p)).fma(xv, s0);
                    s1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, species, p)).fma(xv, s1);
                    s2 = ((FloatVector) q2.convertShape(VectorOperators.B2F, species, p)).fma(xv, s2);
                    s3 = ((FloatVector) q3.convertShape(VectorOperators.B2F, species, p)).fma(xv, s3);
                }
            }
            acc0 = s0.fma(FloatVector.broadcast(species, scale(base0 + block)), acc0);
            acc1 = s1.fma(FloatVector.broadcast(species, scale(base1 + block)), acc1);
            acc2 = s2.fma(FloatVector.broadcast(species, scale(base2 + block)), acc2);
            acc3 = s3.fma(FloatVector.broadcast(species, scale(base3 + block)), acc3);
        }
        out[0] = acc0.reduceLanes(VectorOperators.ADD);
        out[1] = acc1.reduceLanes(VectorOperators.ADD);
        out[2] = acc2.reduceLanes(VectorOperators.ADD);
        out[3] = acc3.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void matMul(float[][] x, int batch, float[][] out, int outOffset, int fromRow, int toRow) {
        if (batch >= PanelMatMul.MIN_BATCH) {
            // A separate compiled method (its name keeps it out of line, see KernelSpecies): one kernel per method.
            PanelMatMul.matMul(this, x, batch, out, outOffset, fromRow, toRow);
            return;
        }
        float[] four = new float[4];
        int quads = batch & ~3;
        for (int r = fromRow; r < toRow; r++) {
            for (int b = 0; b < quads; b += 4) {
                dot4(r, x[b], x[b + 1], x[b + 2], x[b + 3], 0, four);
                out[b][outOffset + r] = four[0];
                out[b + 1][outOffset + r] = four[1];
                out[b + 2][outOffset + r] = four[2];
                out[b + 3][outOffset + r] = four[3];
            }
        }
        // The 1-3 activation rows left over (all of them at batch 1, i.e. every decode step) take the matrix-vector
        // kernel, one more pass over the rows each. It is a separate compiled method (see KernelSpecies): inlining
        // the single-row kernel here beside dot4's would make the JIT stop inlining half-way and run the rest as
        // boxed, non-SIMD Java.
        for (int b = quads; b < batch; b++) {
            matVec(x[b], 0, out[b], outOffset, fromRow, toRow);
        }
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        float sum = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            int xb = xOffset + b * WeightFormat.BLOCK;
            float blockSum = 0f;
            for (int i = 0; i < WeightFormat.BLOCK; i++) {
                blockSum += data.get(ValueLayout.JAVA_BYTE, at + SCALE_BYTES + i) * x[xb + i];
            }
            sum += scale(at) * blockSum;
        }
        return sum;
    }

    /** Byte species of one load: at least 64 bits (the narrowest byte vector), at most one float vector's lanes. */
    static VectorSpecies<Byte> byteSpecies(VectorSpecies<Float> species) {
        return species.length() <= 8 ? ByteVector.SPECIES_64 : ByteVector.SPECIES_128;
    }

    @Override
    public float dotVector(VectorSpecies<Float> species, int row, float[] x, int xOffset) {
        VectorSpecies<Byte> bytes = byteSpecies(species);
        int lanes = species.length();
        int perLoad = bytes.length();
        int parts = perLoad / lanes;
        // Two blocks per iteration, each into its own accumulator: the per-block scale FMA is the only dependency
        // carried from block to block, and two chains of it keep the FMA units busy.
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        int b = 0;
        for (; b + 1 < blocksPerRow; b += 2) {
            long at = blockOffset(row, b);
            int xb = xOffset + b * WeightFormat.BLOCK;
            acc0 = blockVector(species, bytes, parts, at, x, xb).fma(FloatVector.broadcast(species, scale(at)), acc0);
            long next = at + BLOCK_BYTES;
            acc1 = blockVector(species, bytes, parts, next, x, xb + WeightFormat.BLOCK)
                    .fma(FloatVector.broadcast(species, scale(next)), acc1);
        }
        if (b < blocksPerRow) {
            long at = blockOffset(row, b);
            acc0 = blockVector(species, bytes, parts, at, x, xOffset + b * WeightFormat.BLOCK)
                    .fma(FloatVector.broadcast(species, scale(at)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Unscaled dot of one block's 32 quants with {@code x[xb..xb+32)}, as lane-wise partial sums. */
    private FloatVector blockVector(VectorSpecies<Float> species, VectorSpecies<Byte> bytes, int parts, long at,
                                    float[] x, int xb) {
        int lanes = species.length();
        FloatVector even = FloatVector.zero(species);
        FloatVector odd = FloatVector.zero(species);
        for (int j = 0; j < WeightFormat.BLOCK; j += bytes.length()) {
            ByteVector q = ByteVector.fromMemorySegment(bytes, data, at + SCALE_BYTES + j, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < parts; p++) {
                FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, species, p);
                FloatVector xv = FloatVector.fromArray(species, x, xb + j + p * lanes);
                if (((j / lanes + p) & 1) == 0) {
                    even = w.fma(xv, even);
                } else {
                    odd = w.fma(xv, odd);
                }
            }
        }
        return even.add(odd);
    }

    @Override
    public void dot4Vector(VectorSpecies<Float> species, int row, float[] x0, float[] x1, float[] x2, float[] x3,
                           int xOffset, float[] out) {
        VectorSpecies<Byte> bytes = byteSpecies(species);
        int lanes = species.length();
        int perLoad = bytes.length();
        int parts = perLoad / lanes;
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            int xb = xOffset + b * WeightFormat.BLOCK;
            FloatVector s0 = FloatVector.zero(species);
            FloatVector s1 = FloatVector.zero(species);
            FloatVector s2 = FloatVector.zero(species);
            FloatVector s3 = FloatVector.zero(species);
            for (int j = 0; j < WeightFormat.BLOCK; j += perLoad) {
                ByteVector q = ByteVector.fromMemorySegment(bytes, data, at + SCALE_BYTES + j, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, species, p);
                    int xi = xb + j + p * lanes;
                    s0 = w.fma(FloatVector.fromArray(species, x0, xi), s0);
                    s1 = w.fma(FloatVector.fromArray(species, x1, xi), s1);
                    s2 = w.fma(FloatVector.fromArray(species, x2, xi), s2);
                    s3 = w.fma(FloatVector.fromArray(species, x3, xi), s3);
                }
            }
            FloatVector d = FloatVector.broadcast(species, scale(at));
            acc0 = s0.fma(d, acc0);
            acc1 = s1.fma(d, acc1);
            acc2 = s2.fma(d, acc2);
            acc3 = s3.fma(d, acc3);
        }
        out[0] = acc0.reduceLanes(VectorOperators.ADD);
        out[1] = acc1.reduceLanes(VectorOperators.ADD);
        out[2] = acc2.reduceLanes(VectorOperators.ADD);
        out[3] = acc3.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void readRow(int row, float[] out, int outOffset) {
        var species = KernelSpecies.FLOAT;
        if (species == null) {
            readRowScalar(row, out, outOffset);
        } else {
            readRowVector(species, row, out, outOffset);
        }
    }

    @Override
    public void readRowScalar(int row, float[] out, int outOffset) {
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            float d = scale(at);
            for (int i = 0; i < WeightFormat.BLOCK; i++) {
                out[outOffset + b * WeightFormat.BLOCK + i] =
                        d * data.get(ValueLayout.JAVA_BYTE, at + SCALE_BYTES + i);
            }
        }
    }

    @Override
    public void readRowVector(VectorSpecies<Float> species, int row, float[] out, int outOffset) {
        VectorSpecies<Byte> bytes = byteSpecies(species);
        int lanes = species.length();
        int parts = bytes.length() / lanes;
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            FloatVector d = FloatVector.broadcast(species, scale(at));
            int ob = outOffset + b * WeightFormat.BLOCK;
            for (int j = 0; j < WeightFormat.BLOCK; j += bytes.length()) {
                ByteVector q = ByteVector.fromMemorySegment(bytes, data, at + SCALE_BYTES + j, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, species, p)).mul(d)
                            .intoArray(out, ob + j + p * lanes);
                }
            }
        }
    }
}
