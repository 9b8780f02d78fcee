package io.emend.core.quant;

import java.util.Locale;

/**
 * How a weight matrix is stored for the inference engine. Q8_0 and Q4_0 use llama.cpp's block layouts
 * (32 weights per block, an F16 scale first); F16 and F32 are plain row-major little-endian arrays.
 */
public enum WeightFormat {
    F32,
    F16,
    Q8_0,
    Q4_0;

    /** Weights per quantization block (llama.cpp's QK8_0 and QK4_0). */
    public static final int BLOCK = 32;

    /** Bytes of storage for a {@code [rows, cols]} matrix in this format. */
    public long byteSize(long rows, long cols) {
        return switch (this) {
            case F32 -> rows * cols * Float.BYTES;
            case F16 -> rows * cols * Short.BYTES;
            case Q8_0 -> rows * (cols / BLOCK) * Q8_0Tensor.BLOCK_BYTES;
            case Q4_0 -> rows * (cols / BLOCK) * Q4_0Tensor.BLOCK_BYTES;
        };
    }

    /** True when every row must be a whole number of blocks. */
    public boolean blocked() {
        return this == Q8_0 || this == Q4_0;
    }

    /** Parses {@code f32}, {@code f16}, {@code q8_0}, {@code q4_0} (any case). */
    public static WeightFormat parse(String name) {
        for (WeightFormat f : values()) {
            if (f.name().equalsIgnoreCase(name.trim())) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown weight format '" + name + "' (expected f32, f16, q8_0 or q4_0)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
