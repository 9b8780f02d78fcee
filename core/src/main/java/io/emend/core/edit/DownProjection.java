package io.emend.core.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.graph.Transformer;

/**
 * A layer's MLP down-projection as the edit math sees it: {@code y = W k + b} in {@code Linear} orientation, plus any
 * edit factors already on it. The graph stores W as {@code [in, out]}, so {@code (W k)_o = Σ_i k_i W_graph[i][o]}.
 *
 * @param name canonical weight name
 * @param in   key width
 * @param out  output width (the hidden size)
 */
public record DownProjection(String name, int in, int out) {

    public static DownProjection of(Transformer model, int layer) {
        String name = model.mlpDownProjection(layer);
        var shape = model.parameter(name).getShape();
        return new DownProjection(name, (int) shape.get(0), (int) shape.get(1));
    }

    /** {@code W k + b + Σ U (Vᵀ k)} for the factors {@code delta} holds on this weight. */
    public double[] apply(Transformer model, EditDelta delta, double[] key) {
        float[] w = model.parameter(name).toFloatArray();
        double[] y = new double[out];
        for (int i = 0; i < in; i++) {
            double k = key[i];
            for (int o = 0; o < out; o++) {
                y[o] += k * w[i * out + o];
            }
        }
        String bias = name.substring(0, name.length() - "weight".length()) + "bias";
        if (model.parameterNames().contains(bias)) {
            float[] b = model.parameter(bias).toFloatArray();
            for (int o = 0; o < out; o++) {
                y[o] += b[o];
            }
        }
        EditDelta.Factors f = delta.factors().get(name);
        if (f != null) {
            for (int r = 0; r < f.rank(); r++) {
                double vk = 0;
                for (int i = 0; i < in; i++) {
                    vk += f.v()[i * f.rank() + r] * key[i];
                }
                for (int o = 0; o < out; o++) {
                    y[o] += f.u()[o * f.rank() + r] * vk;
                }
            }
        }
        return y;
    }

    /** Factors of one or more edits on this weight: U [out, n], V [in, n]. */
    public EditDelta.Factors factors(Matrix u, Matrix v) {
        if (u.rows() != out || v.rows() != in || u.cols() != v.cols()) {
            throw new IllegalArgumentException("factors for " + name + " must be [" + out + ", n] and [" + in
                    + ", n], got " + u.rows() + "x" + u.cols() + " and " + v.rows() + "x" + v.cols());
        }
        return new EditDelta.Factors(out, in, u.cols(), u.toFloats(), v.toFloats());
    }
}
