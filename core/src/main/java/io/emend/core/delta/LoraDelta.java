package io.emend.core.delta;

/**
 * A low-rank change to one linear layer: {@code ΔW = scale · B·A}, kept factored.
 *
 * @param module the module's name in the base model, e.g. {@code model.layers.0.self_attn.q_proj}
 *               (its weight is {@code module + ".weight"})
 * @param rank   r
 * @param in     columns of W (input features)
 * @param out    rows of W (output features)
 * @param a      // [rank, in], row-major, as PEFT stores lora_A
 * @param b      // [out, rank], row-major, as PEFT stores lora_B
 * @param scale  lora_alpha / r (or / √r with rsLoRA)
 */
public record LoraDelta(String module, int rank, int in, int out, float[] a, float[] b, double scale) {

    public LoraDelta {
        if (a.length != (long) rank * in) {
            throw new IllegalArgumentException(module + ": lora_A has " + a.length + " values, expected [" + rank + ", " + in + "]");
        }
        if (b.length != (long) out * rank) {
            throw new IllegalArgumentException(module + ": lora_B has " + b.length + " values, expected [" + out + ", " + rank + "]");
        }
    }

    /** The base weight this delta changes. */
    public String weightName() {
        return module + ".weight";
    }

    /** {@code scale · B·A} as a dense row-major [out, in] matrix, in double. */
    public double[] dense() {
        double[] w = new double[out * in];
        for (int o = 0; o < out; o++) {
            addRow(o, w, o * in, 1.0);
        }
        return w;
    }

    /** Adds {@code factor · scale · (B·A)[row, :]} into {@code dst[offset, offset + in)}. */
    public void addRow(int row, double[] dst, int offset, double factor) {
        for (int k = 0; k < rank; k++) {
            double coef = factor * scale * b[row * rank + k];
            if (coef == 0) {
                continue;
            }
            int base = k * in;
            for (int i = 0; i < in; i++) {
                dst[offset + i] += coef * a[base + i];
            }
        }
    }
}
