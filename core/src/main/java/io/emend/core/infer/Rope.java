package io.emend.core.infer;

/**
 * Rotary position embedding in Hugging Face's rotate-half layout: within a head, element {@code i} pairs with
 * {@code i + headDim/2}, rotated by {@code pos · theta^(-2i/headDim)}. Angles are tabulated per position in double
 * and rounded once, so long positions lose no precision to float angle arithmetic.
 */
public final class Rope {

    private final int headDim;
    private final float[] cos; // [maxPositions][headDim / 2]
    private final float[] sin; // [maxPositions][headDim / 2]

    public Rope(int headDim, int maxPositions, double theta) {
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE needs an even head_dim, got " + headDim);
        }
        this.headDim = headDim;
        int half = headDim / 2;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        for (int i = 0; i < half; i++) {
            double invFreq = Math.pow(theta, -2.0 * i / headDim);
            for (int p = 0; p < maxPositions; p++) {
                cos[p * half + i] = (float) Math.cos(p * invFreq);
                sin[p * half + i] = (float) Math.sin(p * invFreq);
            }
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code x} (from {@code offset}) for position {@code pos}. */
    public void apply(float[] x, int offset, int heads, int pos) {
        int half = headDim / 2;
        int table = pos * half;
        for (int h = 0; h < heads; h++) {
            int base = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                float a = x[base + i];
                float b = x[base + i + half];
                float c = cos[table + i];
                float s = sin[table + i];
                x[base + i] = a * c - b * s;
                x[base + i + half] = b * c + a * s;
            }
        }
    }
}
