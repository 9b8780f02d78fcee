package io.emend.core.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-major little-endian IEEE half-precision weights, widened to F32 inside the kernel.
 * Infinite and NaN halves are rejected at load ({@link #checkFinite}): the vector widening below is exact for
 * every finite half (normal and subnormal) but would turn those into large finite numbers.
 */
public final class F16Tensor implements WeightTensor {

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 2^112 rescales a half's exponent field (bias 15), placed in a float's (bias 127), to the right value. */
    private static final float HALF_TO_FLOAT_SCALE = 0x1p112f;

    private final MemorySegment data; // [rows, cols] F16 little-endian
    private final int rows;
    private final int cols;

    public F16Tensor(MemorySegment data, int rows, int cols) {
        long expected = WeightFormat.F16.byteSize(rows, cols);
        if (rows <= 0 || cols <= 0 || data.byteSize() != expected) {
            throw new IllegalArgumentException("F16 tensor [" + rows + ", " + cols + "] needs " + expected
                    + " bytes, got " + data.byteSize());
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** Rounds {@code values} to F16 (round to nearest even) into a new segment of {@code arena}. */
    public static F16Tensor of(Arena arena, float[] values, int rows, int cols) {
        MemorySegment seg = arena.allocate((long) rows * cols * Short.BYTES, 64);
        for (int i = 0; i < rows * cols; i++) {
            seg.set(LE_SHORT, (long) i * Short.BYTES, Float.floatToFloat16(values[i]));
        }
        return new F16Tensor(seg, rows, cols).checkFinite("values");
    }

    /** Throws, naming {@code what}, if any element is infinite or NaN. */
    public F16Tensor checkFinite(String what) {
        long n = (long) rows * cols;
        for (long i = 0; i < n; i++) {
            if ((data.get(LE_SHORT, i * Short.BYTES) & 0x7c00) == 0x7c00) {
                throw new IllegalArgumentException(what + ": element " + i + " is infinite or NaN");
            }
        }
        return this;
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
        return WeightFormat.F16;
    }

    @Override
    public MemorySegment data() {
        return data;
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
        long base = (long) row * cols * Short.BYTES;
        float sum = 0f;
        for (int i = 0; i < cols; i++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + (long) i * Short.BYTES)) * x[xOffset + i];
        }
        return sum;
    }

    /** The short species with as many lanes as {@code species} (half the bits). */
    static VectorSpecies<Short> halfSpecies(VectorSpecies<Float> species) {
        return switch (species.vectorBitSize()) {
            case 128 -> ShortVector.SPECIES_64;
            case 256 -> ShortVector.SPECIES_128;
            case 512 -> ShortVector.SPECIES_256;
            default -> throw new IllegalArgumentException("unsupported float species " + species);
        };
    }

    /** The int species with as many lanes as {@code species}. */
    static VectorSpecies<Integer> intSpecies(VectorSpecies<Float> species) {
        return switch (species.vectorBitSize()) {
            case 128 -> IntVector.SPECIES_128;
            case 256 -> IntVector.SPECIES_256;
            case 512 -> IntVector.SPECIES_512;
            default -> throw new IllegalArgumentException("unsupported float species " + species);
        };
    }

    /** Widens {@code species.length()} halves at {@code offset}: exponent and mantissa move to float position, then one exact multiply rebiases. */
    static FloatVector widenVector(VectorSpecies<Float> species, VectorSpecies<Short> halves, MemorySegment data, long offset) {
        IntVector bits = (IntVector) ShortVector.fromMemorySegment(halves, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, intSpecies(species), 0);
        // Sign extension has put the half's sign in bit 31 already.
        IntVector placed = bits.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(bits.and(0x8000_0000));
        return placed.reinterpretAsFloats().mul(HALF_TO_FLOAT_SCALE);
    }

    @Override
    public float dotVector(VectorSpecies<Float> species, int row, float[] x, int xOffset) {
        VectorSpecies<Short> halves = halfSpecies(species);
        long base = (long) row * cols * Short.BYTES;
        int lanes = species.length();
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        int i = 0;
        int unrolled = cols - cols % (2 * lanes);
        for (; i < unrolled; i += 2 * lanes) {
            long at = base + (long) i * Short.BYTES;
            acc0 = widenVector(species, halves, data, at).fma(FloatVector.fromArray(species, x, xOffset + i), acc0);
            acc1 = widenVector(species, halves, data, at + lanes * 2L)
                    .fma(FloatVector.fromArray(species, x, xOffset + i + lanes), acc1);
        }
        int bound = species.loopBound(cols);
        for (; i < bound; i += lanes) {
            acc0 = widenVector(species, halves, data, base + (long) i * Short.BYTES)
                    .fma(FloatVector.fromArray(species, x, xOffset + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + (long) i * Short.BYTES)) * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public void dot4RowsVector(VectorSpecies<Float> species, int row0, int row1, int row2, int row3, float[] x,
                               int xOffset, float[] out) {
        VectorSpecies<Short> halves = halfSpecies(species);
        long rowBytes = (long) cols * Short.BYTES;
        long base0 = row0 * rowBytes;
        long base1 = row1 * rowBytes;
        long base2 = row2 * rowBytes;
        long base3 = row3 * rowBytes;
        int lanes = species.length();
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        int i = 0;
        int bound = species.loopBound(cols);
        for (; i < bound; i += lanes) {
            FloatVector xv = FloatVector.fromArray(species, x, xOffset + i);
            long at = (long) i * Short.BYTES;
            acc0 = widenVector(species, halves, data, base0 + at).fma(xv, acc0);
            acc1 = widenVector(species, halves, data, base1 + at).fma(xv, acc1);
            acc2 = widenVector(species, halves, data, base2 + at).fma(xv, acc2);
            acc3 = widenVector(species, halves, data, base3 + at).fma(xv, acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            float xi = x[xOffset + i];
            long at = (long) i * Short.BYTES;
            s0 += Float.float16ToFloat(data.get(LE_SHORT, base0 + at)) * xi;
            s1 += Float.float16ToFloat(data.get(LE_SHORT, base1 + at)) * xi;
            s2 += Float.float16ToFloat(data.get(LE_SHORT, base2 + at)) * xi;
            s3 += Float.float16ToFloat(data.get(LE_SHORT, base3 + at)) * xi;
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    @Override
    public void dot4Vector(VectorSpecies<Float> species, int row, float[] x0, float[] x1, float[] x2, float[] x3,
                           int xOffset, float[] out) {
        VectorSpecies<Short> halves = halfSpecies(species);
        long base = (long) row * cols * Short.BYTES;
        int lanes = species.length();
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        int i = 0;
        int bound = species.loopBound(cols);
        for (; i < bound; i += lanes) {
            FloatVector w = widenVector(species, halves, data, base + (long) i * Short.BYTES);
            acc0 = w.fma(FloatVector.fromArray(species, x0, xOffset + i), acc0);
            acc1 = w.fma(FloatVector.fromArray(species, x1, xOffset + i), acc1);
            acc2 = w.fma(FloatVector.fromArray(species, x2, xOffset + i), acc2);
            acc3 = w.fma(FloatVector.fromArray(species, x3, xOffset + i), acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            float w = Float.float16ToFloat(data.get(LE_SHORT, base + (long) i * Short.BYTES));
            s0 += w * x0[xOffset + i];
            s1 += w * x1[xOffset + i];
            s2 += w * x2[xOffset + i];
            s3 += w * x3[xOffset + i];
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    @Override
    public void readRow(int row, float[] out, int outOffset) {
        long base = (long) row * cols * Short.BYTES;
        for (int i = 0; i < cols; i++) {
            out[outOffset + i] = Float.float16ToFloat(data.get(LE_SHORT, base + (long) i * Short.BYTES));
        }
    }
}
