package io.emend.core.merge;

import java.util.List;

/**
 * Spherical linear interpolation between the base (t = 0) and one other model (t = 1), tensor by tensor:
 * with θ the angle between the two tensors seen as vectors,
 * {@code slerp(t) = sin((1−t)θ)/sin θ · v₀ + sin(tθ)/sin θ · v₁}.
 *
 * <p>When the tensors are nearly parallel (or anti-parallel) sin θ is close to 0 and the quotients lose all
 * precision, so the method falls back to linear interpolation {@code (1−t)·v₀ + t·v₁}; there the two agree to
 * within {@code θ²/8}, far below F32 resolution at the threshold. A tensor with (near-)zero norm has no direction
 * and is interpolated linearly too.
 */
public final class Slerp implements MergeMethod {

    /**
     * Tensors count as parallel when |cos θ| exceeds {@code 1 − PARALLEL_EPSILON}, i.e. θ below about 1.8°
     * (mergekit uses the same 0.9995 cut-off).
     */
    public static final double PARALLEL_EPSILON = 5e-4;
    /** Norms below this are treated as zero vectors. */
    public static final double ZERO_NORM = 1e-8;

    private static final List<Parameter> PARAMETERS = List.of(Parameter.required("t", Parameter.Scope.GLOBAL));

    @Override
    public String name() {
        return "slerp";
    }

    @Override
    public String description() {
        return "spherical interpolation from base_model (t = 0) to one other model (t = 1)";
    }

    @Override
    public List<Parameter> parameters() {
        return PARAMETERS;
    }

    @Override
    public boolean needsBase() {
        return true;
    }

    /** The two coefficients (s₀, s₁) of v₀ and v₁ for a pair with the given dot product and norms. */
    public static double[] coefficients(double dot, double norm0, double norm1, double t) {
        if (norm0 < ZERO_NORM || norm1 < ZERO_NORM) {
            return new double[] {1 - t, t};
        }
        double cos = Math.clamp(dot / (norm0 * norm1), -1.0, 1.0);
        if (Math.abs(cos) > 1 - PARALLEL_EPSILON) {
            return new double[] {1 - t, t};
        }
        double theta = Math.acos(cos);
        double sin = Math.sin(theta);
        return new double[] {Math.sin((1 - t) * theta) / sin, Math.sin(t * theta) / sin};
    }

    @Override
    public void merge(TensorMerge m) {
        TensorView v0 = m.requireBase(name());
        if (m.models().size() != 1) {
            throw new MergeException("slerp interpolates base_model with exactly one other model; tensor '"
                    + m.tensorName() + "' has " + m.models().size());
        }
        TensorView v1 = m.models().getFirst();
        double t = m.global().number("t");
        float[] a = m.buffer();
        float[] b = m.buffer();
        double dot = 0;
        double n0 = 0;
        double n1 = 0;
        for (long from = 0; from < m.elements(); from += m.chunk()) {
            int len = m.chunkLength(from);
            v0.read(from, a, len);
            v1.read(from, b, len);
            for (int i = 0; i < len; i++) {
                dot += (double) a[i] * b[i];
                n0 += (double) a[i] * a[i];
                n1 += (double) b[i] * b[i];
            }
        }
        double[] s = coefficients(dot, Math.sqrt(n0), Math.sqrt(n1), t);
        float[] out = m.buffer();
        for (long from = 0; from < m.elements(); from += m.chunk()) {
            int len = m.chunkLength(from);
            v0.read(from, a, len);
            v1.read(from, b, len);
            for (int i = 0; i < len; i++) {
                out[i] = (float) (s[0] * a[i] + s[1] * b[i]);
            }
            m.out().write(from, out, len);
        }
    }
}
