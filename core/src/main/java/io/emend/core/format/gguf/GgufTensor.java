package io.emend.core.format.gguf;

import java.util.Arrays;

/**
 * A tensor in a GGUF file. {@code shape} is row-major, outermost dimension first (as in safetensors and PyTorch);
 * GGUF stores the dimensions the other way round ({@code ne[0]} is the innermost, the row length), which the
 * reader and writer convert.
 *
 * @param name   tensor name (llama.cpp's names, e.g. {@code blk.0.attn_q.weight})
 * @param type   storage type
 * @param shape  dimensions, outermost first
 * @param offset byte offset from the start of the data section
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long offset) {

    public GgufTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Length of one row: the innermost dimension ({@code ne[0]}). */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    public long byteSize() {
        return type.byteSize(elements());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape)
                && t.offset == offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape) + " @" + offset;
    }
}
