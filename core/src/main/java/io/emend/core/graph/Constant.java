package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * A value the graph reads but never trains, in memory PyTorch owns: a scalar operand for ops whose backward reads it
 * ({@code mul}, {@code div}, {@code pow}), or an array a forward builds from Java values (RoPE's tables, the attention
 * mask, token ids and positions).
 *
 * <p>DJL stages such values in a Java direct buffer that the PyTorch tensor points into without owning it. A scalar
 * passed as a number ({@code x.mul(2.0)}) is closed right after the op, and a forward's arrays are closed with the
 * forward's scope, before backward runs. Autograd may have saved them (a product saves its other operand, an
 * embedding its indices); once the buffer is collected and its memory reused, backward reads someone else's bytes:
 * the intermittent NaN or wrong gradients of long runs. The copies made here are PyTorch's, so autograd keeps them.
 */
public final class Constant {

    private Constant() {
    }

    /** {@code value} as an F32 scalar in {@code like}'s manager, owned by PyTorch. */
    public static NDArray of(NDArray like, double value) {
        try (NDArray wrapped = like.getManager().create((float) value)) {
            return wrapped.duplicate();
        }
    }

    /** {@code values} as an F32 array of {@code shape} in {@code manager}, owned by PyTorch. */
    public static NDArray of(NDManager manager, float[] values, Shape shape) {
        try (NDArray staged = manager.create(values, shape)) {
            return staged.duplicate();
        }
    }

    /** {@code values} as an int64 array of {@code shape} in {@code manager}, owned by PyTorch. */
    public static NDArray of(NDManager manager, long[] values, Shape shape) {
        try (NDArray staged = manager.create(values, shape)) {
            return staged.duplicate();
        }
    }
}
