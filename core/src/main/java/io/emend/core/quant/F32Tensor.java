package io.emend.core.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Plain row-major little-endian F32 weights: the reference format. */
public final class F32Tensor implements WeightTensor {

    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data; // [rows, cols] F32 little-endian
    private final int rows;
    private final int cols;

    public F32Tensor(MemorySegment data, int rows, int cols) {
        long expected = WeightFormat.F32.byteSize(rows, cols);
        if (rows <= 0 || cols <= 0 || data.byteSize() != expected) {
            throw new IllegalArgumentException("F32 tensor [" + rows + ", " + cols + "] needs " + expected
                    + " bytes, got " + data.byteSize());
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** Copies {@code values} (row-major) into a new segment of {@code arena}. */
    public static F32Tensor of(Arena arena, float[] values, int rows, int cols) {
        MemorySegment seg = arena.allocate((long) rows * cols * Float.BYTES, 64);
        MemorySegment.copy(values, 0, seg, LE_FLOAT, 0, rows * cols);
        return new F32Tensor(seg, rows, cols);
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
        return WeightFormat.F32;
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
        long base = (long) row * cols * Float.BYTES;
        float sum = 0f;
        for (int i = 0; i < cols; i++) {
            sum += data.get(LE_FLOAT, base + (long) i * Float.BYTES) * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public float dotVector(VectorSpecies<Float> species, int row, float[] x, int xOffset) {
        long base = (long) row * cols * Float.BYTES;
        int lanes = species.length();
        // Four accumulators hide the FMA latency; the row is streamed exactly once.
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        int i = 0;
        int unrolled = cols - cols % (4 * lanes);
        for (; i < unrolled; i += 4 * lanes) {
            long at = base + (long) i * Float.BYTES;
            acc0 = loadVector(species, at).fma(FloatVector.fromArray(species, x, xOffset + i), acc0);
            acc1 = loadVector(species, at + lanes * 4L).fma(FloatVector.fromArray(species, x, xOffset + i + lanes), acc1);
            acc2 = loadVector(species, at + lanes * 8L).fma(FloatVector.fromArray(species, x, xOffset + i + 2 * lanes), acc2);
            acc3 = loadVector(species, at + lanes * 12L).fma(FloatVector.fromArray(species, x, xOffset + i + 3 * lanes), acc3);
        }
        int bound = species.loopBound(cols);
        for (; i < bound; i += lanes) {
            acc0 = loadVector(species, base + (long) i * Float.BYTES).fma(FloatVector.fromArray(species, x, xOffset + i), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            sum += data.get(LE_FLOAT, base + (long) i * Float.BYTES) * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public void dot4RowsVector(VectorSpecies<Float> species, int row0, int row1, int row2, int row3, float[] x,
                               int xOffset, float[] out) {
        long rowBytes = (long) cols * Float.BYTES;
        long base0 = row0 * rowBytes;
        long base1 = row1 * rowBytes;
        long base2 = row2 * rowBytes;
        long base3 = row3 * rowBytes;
        int lanes = species.length();
        // One accumulator per row: four independent FMA chains, and each activation vector loaded once for all four.
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        int i = 0;
        int bound = species.loopBound(cols);
        for (; i < bound; i += lanes) {
            FloatVector xv = FloatVector.fromArray(species, x, xOffset + i);
            long at = (long) i * Float.BYTES;
            acc0 = loadVector(species, base0 + at).fma(xv, acc0);
            acc1 = loadVector(species, base1 + at).fma(xv, acc1);
            acc2 = loadVector(species, base2 + at).fma(xv, acc2);
            acc3 = loadVector(species, base3 + at).fma(xv, acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            float xi = x[xOffset + i];
            long at = (long) i * Float.BYTES;
            s0 += data.get(LE_FLOAT, base0 + at) * xi;
            s1 += data.get(LE_FLOAT, base1 + at) * xi;
            s2 += data.get(LE_FLOAT, base2 + at) * xi;
            s3 += data.get(LE_FLOAT, base3 + at) * xi;
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    @Override
    public void dot4Vector(VectorSpecies<Float> species, int row, float[] x0, float[] x1, float[] x2, float[] x3,
                           int xOffset, float[] out) {
        long base = (long) row * cols * Float.BYTES;
        int lanes = species.length();
        FloatVector acc0 = FloatVector.zero(species);
        FloatVector acc1 = FloatVector.zero(species);
        FloatVector acc2 = FloatVector.zero(species);
        FloatVector acc3 = FloatVector.zero(species);
        int i = 0;
        int bound = species.loopBound(cols);
        for (; i < bound; i += lanes) {
            FloatVector w = loadVector(species, base + (long) i * Float.BYTES);
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
            float w = data.get(LE_FLOAT, base + (long) i * Float.BYTES);
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

    private FloatVector loadVector(VectorSpecies<Float> species, long offset) {
        return FloatVector.fromMemorySegment(species, data, offset, ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void readRow(int row, float[] out, int outOffset) {
        MemorySegment.copy(data, LE_FLOAT, (long) row * cols * Float.BYTES, out, outOffset, cols);
    }

    /** Dot of two float arrays (attention scores and sums); the scalar definition is {@link #dotScalar(float[], int, float[], int, int)}. */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        var species = KernelSpecies.FLOAT;
        return species == null ? dotScalar(a, aOffset, b, bOffset, n) : dotVector(species, a, aOffset, b, bOffset, n);
    }

    public static float dotScalar(float[] a, int aOffset, float[] b, int bOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    public static float dotVector(VectorSpecies<Float> species, float[] a, int aOffset, float[] b, int bOffset, int n) {
        FloatVector acc = FloatVector.zero(species);
        int i = 0;
        int bound = species.loopBound(n);
        for (; i < bound; i += species.length()) {
            acc = FloatVector.fromArray(species, a, aOffset + i).fma(FloatVector.fromArray(species, b, bOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** {@code y[yOffset..+n) += s * x[xOffset..+n)} (attention's weighted sum of values); scalar twin below. */
    public static void axpy(float s, float[] x, int xOffset, float[] y, int yOffset, int n) {
        var species = KernelSpecies.FLOAT;
        if (species == null) {
            axpyScalar(s, x, xOffset, y, yOffset, n);
        } else {
            axpyVector(species, s, x, xOffset, y, yOffset, n);
        }
    }

    public static void axpyScalar(float s, float[] x, int xOffset, float[] y, int yOffset, int n) {
        for (int i = 0; i < n; i++) {
            y[yOffset + i] += s * x[xOffset + i];
        }
    }

    public static void axpyVector(VectorSpecies<Float> species, float s, float[] x, int xOffset, float[] y, int yOffset,
                                  int n) {
        int i = 0;
        int bound = species.loopBound(n);
        for (; i < bound; i += species.length()) {
            FloatVector.fromArray(species, x, xOffset + i)
                    .fma(FloatVector.broadcast(species, s), FloatVector.fromArray(species, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            y[yOffset + i] += s * x[xOffset + i];
        }
    }
}
