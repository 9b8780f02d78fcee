package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

/**
 * GPT-2's {@code gelu_new}: the tanh approximation {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³)))}. The exact
 * erf form differs by up to about 1e-3, far outside the fixtures' tolerance, so the approximation is spelled out here.
 */
public final class Gelu {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    private static final double CUBIC = 0.044715;

    private Gelu() {
    }

    public static NDArray tanhApproximation(NDArray x) {
        NDArray inner = x.add(x.pow(Constant.of(x, 3)).mul(Constant.of(x, CUBIC))).mul(Constant.of(x, SQRT_2_OVER_PI));
        return x.mul(inner.tanh().add(1)).mul(Constant.of(x, 0.5));
    }

    /** The definition for one value. */
    public static double reference(double x) {
        return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x)));
    }
}
