package io.emend.core.merge;

import java.util.List;

/**
 * Weighted average of the inputs, {@code Σ wᵢ·xᵢ / Σ wᵢ} (or the plain weighted sum without {@code normalize}).
 * With equal weights this is a model soup (Wortsman et al., 2022). The base model, if any, is merged only when it is
 * listed among the models, as in mergekit. Sums run in double so that merging a model with itself returns it bit
 * for bit in F32.
 */
public final class Linear implements MergeMethod {

    /** Below this, weights summing to "zero" would blow the normalized average up. */
    static final double ZERO_WEIGHT_SUM = 1e-8;

    private static final List<Parameter> PARAMETERS = List.of(
            Parameter.number("weight", Parameter.Scope.PER_MODEL, 1.0),
            Parameter.flag("normalize", true));

    @Override
    public String name() {
        return "linear";
    }

    @Override
    public String description() {
        return "weighted average of the models (model soup)";
    }

    @Override
    public List<Parameter> parameters() {
        return PARAMETERS;
    }

    @Override
    public boolean needsBase() {
        return false;
    }

    /** Each output element is a weighted sum of the same element of the inputs. */
    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public void merge(TensorMerge m) {
        int k = m.models().size();
        if (k == 0) {
            throw new MergeException("linear needs at least one model for tensor '" + m.tensorName() + "'");
        }
        double[] w = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) {
            w[j] = m.modelParameters().get(j).number("weight");
            sum += w[j];
        }
        boolean normalize = m.global().flag("normalize");
        if (normalize && Math.abs(sum) < ZERO_WEIGHT_SUM) {
            throw new MergeException("linear: the weights of tensor '" + m.tensorName() + "' sum to " + sum
                    + "; normalizing would divide by zero (set normalize: false or change the weights)");
        }
        double divisor = normalize ? sum : 1.0;
        float[] x = m.buffer();
        double[] acc = new double[x.length];
        float[] out = m.buffer();
        for (long from = 0; from < m.elements(); from += m.chunk()) {
            int len = m.chunkLength(from);
            java.util.Arrays.fill(acc, 0, len, 0.0);
            // model-outer, element-inner: each pass is one vector multiply-add over chunk-sized (cache-sized) arrays
            for (int j = 0; j < k; j++) {
                m.models().get(j).read(from, x, len);
                WeightedSum.add(acc, x, w[j], len);
            }
            for (int i = 0; i < len; i++) {
                out[i] = (float) (acc[i] / divisor);
            }
            m.out().write(from, out, len);
        }
    }
}
