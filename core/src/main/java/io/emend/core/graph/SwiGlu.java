package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The Llama MLP's gate: {@code silu(gate) * up}, with {@code silu(x) = x * sigmoid(x)}. */
public final class SwiGlu {

    private SwiGlu() {
    }

    /** Both inputs [..., intermediate]; the result belongs to {@code gate}'s manager. */
    public static NDArray apply(NDArray gate, NDArray up) {
        return gate.mul(Activation.sigmoid(gate)).mul(up);
    }

    /** The definition for one pair of values. */
    public static double reference(double gate, double up) {
        return gate / (1 + Math.exp(-gate)) * up;
    }
}
