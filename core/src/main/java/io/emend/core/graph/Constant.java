package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

/**
 * A scalar operand for ops whose backward reads it ({@code mul}, {@code div}, {@code pow}). DJL's
 * {@code x.mul(2.0)} wraps the number in an array over a Java direct buffer and closes it right after the op; autograd
 * has saved that array for backward, and once the buffer is collected the backward reads freed memory (the
 * intermittent NaN gradients of long runs). The copy made here lives in memory PyTorch owns, which autograd keeps.
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
}
