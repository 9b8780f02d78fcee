package io.emend.core.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * llama.cpp's Q4_0 ({@code block_q4_0}): each block of 32 weights is an F16 scale {@code d} followed by 16 bytes;
 * byte {@code j} holds weight {@code j} in its low nibble and weight {@code j + 16} in its high nibble, each stored
 * with an offset of 8, so weight {@code i} is {@code d * (nibble - 8)}. Rows are whole blocks.
 */
public final class Q4_0Tensor implements WeightTensor {

    public static final int SCALE_BYTES = Q4_0.SCALE_BYTES;
    /** Bytes of packed nibbles per block. */
    public static final int QUANT_BYTES = WeightFormat.BLOCK / 2;
    /** As the codec writes them. */
    public static final int BLOCK_BYTES = Q4_0.BYTES_PER_BLOCK;
    /** The offset that makes a stored nibble 0..15 a signed weight -8..7. */
    public static final int NIBBLE_OFFSET = 8;

    private final MemorySegment data; // [rows, cols / 32] blocks of 18 bytes
    private final int rows;
    private final int cols;
    private final int blocksPerRow;

    public Q4_0Tensor(MemorySegment data, int rows, int cols) {
        if (rows <= 0 || cols <= 0 || cols % WeightFormat.BLOCK != 0) {
            throw new IllegalArgumentException("Q4_0 tensor [" + rows + ", " + cols + "]: columns must be a positive multiple of "
                    + WeightFormat.BLOCK);
        }
        long expected = WeightFormat.Q4_0.byteSize(rows, cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("Q4_0 tensor [" + rows + ", " + cols + "] needs " + expected
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
        return WeightFormat.Q4_0;
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

    /** Weight {@code i} (0..31) of the block at {@code at}, before scaling. */
    private int quant(long at, int i) {
        int packed = data.get(ValueLayout.JAVA_BYTE, at + SCALE_BYTES + (i % QUANT_BYTES)) & 0xff;
        int nibble = i < QUANT_BYTES ? packed & 0x0f : packed >>> 4;
        return nibble - NIBBLE_OFFSET;
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

    /**
     * One row at a time, unlike the other formats: Q4_0's batch-1 kernel is bound by its unpacking, not by memory (it
     * runs as fast streamed as cache-resident), so four streams gain nothing, and both four-row forms tried were
     * slower. On the 110m shape, one thread, thread CPU time, a decode step took 22.5 ms through a four-row kernel
     * and 178 ms with four one-row kernels in the loop (the signature of a kernel left out of line and run as boxed
     * Java, see KernelSpecies), against 9.1-9.6 ms one row at a time.
     */
    @Override
    public void matVec(float[] x, int xOffset, float[] out, int outOffset, int fromRow, int toRow) {
        for (int r = fromRow; r < toRow; r++) {
            // The species is read at the call, not held in a local: C2 may compile this loop on-stack first, where a
            // local species is no constant (see KernelSpecies).
            out[outOffset + r] = KernelSpecies.FLOAT == null ? dotScalar(r, x, xOffset)
                    : dotVector(KernelSpecies.FLOAT, r, x, xOffset);
        }
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
                blockSum += quant(at, i) * x[xb + i];
            }
            sum += scale(at) * blockSum;
        }
        return sum;
    }

    @Override
    public float dotVector(VectorSpecies<Float> species, int row, float[] x, int xOffset) {
        // One block per iteration and one chain: the unpacking between two scale FMAs hides their latency, and a
        // loop body with two blocks (and a third for an odd count) passed C2's node budget once inlined into matVec,
        // which then left the scale read out of line and ran the decode 2.5x slower in about every other JVM.
        FloatVector acc = FloatVector.zero(species);
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            acc = blockVector(species, at, x, xOffset + b * WeightFormat.BLOCK)
                    .fma(FloatVector.broadcast(species, scale(at)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Unscaled dot of one block's 32 nibbles (low nibbles first) with {@code x[xb..xb+32)}, lane-wise. */
    private FloatVector blockVector(VectorSpecies<Float> species, long at, float[] x, int xb) {
        int lanes = species.length();
        int parts = QUANT_BYTES / lanes;
        ByteVector packed = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, at + SCALE_BYTES,
                ByteOrder.LITTLE_ENDIAN);
        FloatVector lowSum = FloatVector.zero(species);
        FloatVector highSum = FloatVector.zero(species);
        for (int p = 0; p < parts; p++) {
            IntVector bytes = packedIntsVector(species, packed, p);
            lowSum = nibbleVector(bytes, 0).fma(FloatVector.fromArray(species, x, xb + p * lanes), lowSum);
            highSum = nibbleVector(bytes, 4)
                    .fma(FloatVector.fromArray(species, x, xb + QUANT_BYTES + p * lanes), highSum);
        }
        return lowSum.add(highSum);
    }

    /**
     * Part {@code p} of a block's 16 packed bytes, zero-extended to int lanes of the float species' width. Splitting
     * the nibbles after one widening (int shifts and masks) rather than before two (byte ones, which x86 lacks and
     * the JIT emulates) made the batch-1 kernel 20% faster (2048 × 768, 512-bit, thread CPU time: 22.5 against 18.5
     * G weights/s cache-resident, 21.5 against 17.8 streamed from memory).
     */
    private static IntVector packedIntsVector(VectorSpecies<Float> species, ByteVector packed, int p) {
        VectorSpecies<Integer> ints = switch (species.length()) {
            case 16 -> IntVector.SPECIES_512;
            case 8 -> IntVector.SPECIES_256;
            default -> IntVector.SPECIES_128;
        };
        return (IntVector) packed.convertShape(VectorOperators.ZERO_EXTEND_B2I, ints, p);
    }

    /** The nibble at {@code shift} (0 low, 4 high) of each int lane, as the signed weight {@code nibble - 8}. */
    private static FloatVector nibbleVector(IntVector bytes, int shift) {
        IntVector nibble = (shift == 0 ? bytes : bytes.lanewise(VectorOperators.LSHR, shift)).and(0x0f)
                .sub(NIBBLE_OFFSET);
        return (FloatVector) nibble.convert(VectorOperators.I2F, 0);
    }

    @Override
    public void dot4Vector(VectorSpecies<Float> species, int row, float[] x0, float[] x1, float[] x2, float[] x3,
                           int xOffset, float[] out) {
        int lanes = species.length();
        int parts = QUANT_BYTES / lanes;
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            int xb = xOffset + b * WeightFormat.BLOCK;
            ByteVector packed = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, at + SCALE_BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            FloatVector s0 = FloatVector.zero(species);
            FloatVector s1 = FloatVector.zero(species);
            FloatVector s2 = FloatVector.zero(species);
            FloatVector s3 = FloatVector.zero(species);
            for (int p = 0; p < parts; p++) {
                IntVector bytes = packedIntsVector(species, packed, p);
                for (int half = 0; half < 2; half++) {
                    FloatVector w = nibbleVector(bytes, half * 4);
                    int xi = xb + half * QUANT_BYTES + p * lanes;
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
                out[outOffset + b * WeightFormat.BLOCK + i] = d * quant(at, i);
            }
        }
    }

    @Override
    public void readRowVector(VectorSpecies<Float> species, int row, float[] out, int outOffset) {
        int lanes = species.length();
        int parts = QUANT_BYTES / lanes;
        for (int b = 0; b < blocksPerRow; b++) {
            long at = blockOffset(row, b);
            FloatVector d = FloatVector.broadcast(species, scale(at));
            int ob = outOffset + b * WeightFormat.BLOCK;
            ByteVector packed = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, at + SCALE_BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < parts; p++) {
                IntVector bytes = packedIntsVector(species, packed, p);
                nibbleVector(bytes, 0).mul(d).intoArray(out, ob + p * lanes);
                nibbleVector(bytes, 4).mul(d).intoArray(out, ob + QUANT_BYTES + p * lanes);
            }
        }
    }
}
