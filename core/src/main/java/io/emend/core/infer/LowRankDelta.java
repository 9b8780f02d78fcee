package io.emend.core.infer;

/**
 * A low-rank change to one projection, applied on the fly as {@code y += scale · B·(A·x)} on top of the (quantized)
 * base weight, never merged into it: a LoRA adapter's factors (PEFT's {@code lora_A.weight}, {@code lora_B.weight}
 * as stored) or a rank-k knowledge edit ({@code A = Vᵀ}, {@code B = U}). Costs {@code rank·(in + out)} multiply-adds
 * per token, against {@code in·out} for the base matrix.
 *
 * @param a     [rank, in] row-major
 * @param b     [out, rank] row-major
 * @param rank  number of rows of {@code a}
 * @param scale e.g. LoRA's alpha / rank; 1 for edits
 */
public record LowRankDelta(float[] a, float[] b, int rank, int in, int out, float scale) {

    public LowRankDelta {
        if (rank <= 0 || in <= 0 || out <= 0) {
            throw new IllegalArgumentException("low-rank delta needs positive rank, in and out, got rank " + rank
                    + ", in " + in + ", out " + out);
        }
        if (a.length != rank * in) {
            throw new IllegalArgumentException("low-rank delta: A has " + a.length + " values, expected rank " + rank
                    + " × in " + in);
        }
        if (b.length != out * rank) {
            throw new IllegalArgumentException("low-rank delta: B has " + b.length + " values, expected out " + out
                    + " × rank " + rank);
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("low-rank delta: scale is not finite");
        }
    }

    /** The delta on output rows {@code [from, to)} only: the same A, those rows of B. */
    public LowRankDelta rows(int from, int to) {
        if (from < 0 || to > out || from >= to) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a delta with " + out + " output rows");
        }
        return new LowRankDelta(a, java.util.Arrays.copyOfRange(b, from * rank, to * rank), rank, in, to - from, scale);
    }

    /** {@code t = A·x}, the rank-sized middle of the product (shared by every output row). */
    void project(float[] x, float[] t) {
        for (int r = 0; r < rank; r++) {
            t[r] = io.emend.core.quant.F32Tensor.dot(a, r * in, x, 0, in);
        }
    }

    /** {@code y[yOffset + o] += scale · B[o]·t} for output rows {@code [from, to)}. */
    void expand(float[] t, float[] y, int yOffset, int from, int to) {
        for (int o = from; o < to; o++) {
            float s = 0f;
            int row = o * rank;
            for (int r = 0; r < rank; r++) {
                s += b[row + r] * t[r];
            }
            y[yOffset + o] += scale * s;
        }
    }
}
