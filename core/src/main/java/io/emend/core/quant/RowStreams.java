package io.emend.core.quant;

/**
 * The row order of the batch-1 product ({@code matVec}): a range of weight rows is cut into {@link #STREAMS} equal
 * parts and walked one row of each part at a time, so that one thread reads four sequential streams of weights at
 * once rather than one. Each format's four-row kernel ({@code dot4RowsVector}) takes the four rows of one step.
 *
 * <p>Why: one sequential stream leaves much of a core's memory bandwidth unused (the hardware prefetchers run only so
 * far ahead of one stream, and its misses do not fill the core's miss buffers). Measured on this project's VM (AMD
 * EPYC, AVX-512, one thread, 2048 x 768 F32 matrices, 300 MB of them, thread CPU time, same minutes, load 4-5): one
 * row at a time 9-11 GB/s, four adjacent rows at a time 12-16, one row from each half (two and two) 14-17, one from
 * each quarter 18-25, one from each eighth 17-19, and a four-stream read loop 24-26 GB/s. On the 110m decoder the F32
 * step went from 43-44 to 25 ms of thread CPU, Q8_0 from 19-25 to 13-14 ms.
 */
final class RowStreams {

    /** Parts a row range is cut into, and rows the four-row kernels take per step. */
    static final int STREAMS = 4;

    private RowStreams() {
    }

    /** Steps to cover {@code [fromRow, toRow)}: the rows per part, the last part possibly shorter. */
    static int steps(int fromRow, int toRow) {
        return (toRow - fromRow + STREAMS - 1) / STREAMS;
    }

    /**
     * The row part {@code part} reads at step {@code step}; past the range's end it repeats the last row, so every
     * step is one call of the four-row kernel (a second kernel for the leftover rows would share its compiled method,
     * see {@link KernelSpecies}) and writes a value already written, at the cost of at most three extra rows.
     */
    static int row(int fromRow, int toRow, int steps, int part, int step) {
        return Math.min(fromRow + part * steps + step, toRow - 1);
    }
}
