package io.emend.core.tensor;

/**
 * Element types of dense tensors as the safetensors header spells them.
 * Quantized block formats (Q8_0, Q4_0) are not dtypes of this kind; they live in {@code io.emend.core.quant}.
 */
public enum DType {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype for a safetensors header string, or empty when Emend does not read it. */
    public static java.util.Optional<DType> fromHeader(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return java.util.Optional.of(d);
            }
        }
        return java.util.Optional.empty();
    }
}
