package io.emend.core.edit.rome;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.DownProjection;
import io.emend.core.edit.EditDefaults;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.SiteKeys;
import io.emend.core.edit.TargetValue;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Probe;
import io.emend.core.graph.Transformer;

import java.util.List;
import java.util.Map;

/**
 * ROME (Rank-One Model Editing): for each request, in order, a rank-one change to one layer's MLP down-projection so
 * that the subject's key k* maps to the value v* that makes the model say the new target.
 * <ol>
 *   <li>k*: the down-projection's input at the subject's last token, averaged over the bare prompt and the context
 *       prefixes;</li>
 *   <li>v* = v₀ + δ: δ found by {@link TargetValue} at the layer's MLP output;</li>
 *   <li>the update minimising {@code ‖ΔW K‖²} over ordinary keys (second moment C) subject to {@code (W + ΔW) k* = v*}:
 *       {@code ΔW = r (C⁻¹k*)ᵀ / (k*ᵀ C⁻¹ k*)} with {@code r = v* − W k*}, i.e. U = r / (k*ᵀC⁻¹k*), V = C⁻¹k*.</li>
 * </ol>
 * Each edit sees the ones before it, so a batch yields rank = number of edits on the one layer.
 */
public final class RomeEditor implements KnowledgeEditor {

    private final RomeParams params;

    public RomeEditor(RomeParams params) {
        this.params = params;
    }

    @Override
    public EditMethod method() {
        return EditMethod.ROME;
    }

    @Override
    public List<Integer> layers() {
        return List.of(params.layer());
    }

    public RomeParams params() {
        return params;
    }

    @Override
    public EditDelta edit(Transformer model, EditDelta prior, List<PreparedEdit> edits, KeyStatistics stats,
                          Progress progress) {
        int layer = params.layer();
        if (layer > EditDefaults.highestEditableLayer(model.layers())) {
            throw new IllegalArgumentException("ROME layer " + layer + " is the last of the model's " + model.layers()
                    + " layers or outside them; a value written there cannot reach the tokens after the subject");
        }
        stats.requireFits(model, layers());
        Matrix c = stats.layer(layer);
        DownProjection down = DownProjection.of(model, layer);
        EditDelta made = EditDelta.empty(method().id());
        for (int i = 0; i < edits.size(); i++) {
            progress.report("rome edit", i, edits.size());
            PreparedEdit e = edits.get(i);
            EditDelta current = prior.plus(made);
            TargetValue value;
            Matrix key;
            try (NDManager scope = NDManager.newBaseManager()) {
                ForwardOptions options = current.applyTo(ForwardOptions.defaults(), scope);
                value = TargetValue.optimize(model, options, Probe.mlpDownOutput(layer), e.rewriting(), e.target(),
                        e.kl(), params.target(), progress);
                key = SiteKeys.keys(model, options, layer, List.of(e));
            }
            double[] k = key.column(0);
            double[] out = down.apply(model, current, k);
            float[] vStar = value.target();
            double[] r = new double[out.length];
            for (int o = 0; o < r.length; o++) {
                r[o] = vStar[o] - out[o];
            }
            RankOne update = rankOne(c, k, r);
            EditDelta.Factors f = down.factors(update.u(), update.v());
            made = made.plus(new EditDelta(method().id(), 1, Map.of(down.name(), f)));
        }
        progress.report("rome edit", edits.size(), edits.size());
        return made;
    }

    /**
     * The closed form: U = r / (kᵀ C⁻¹ k), V = C⁻¹ k, so that {@code ΔW k = r} and ΔW is the smallest change in the
     * C-weighted sense ({@code tr(ΔW C ΔWᵀ)}, the mean squared change over ordinary keys).
     *
     * @param c the key statistics' second moment [in, in]
     * @param k the subject's key [in]
     * @param r the residual to write [out]
     * @throws IllegalStateException when the key has no weight under C
     */
    public static RankOne rankOne(Matrix c, double[] k, double[] r) {
        Matrix cInvK = c.solveSpd(Matrix.column(k));
        double denom = 0;
        for (int i = 0; i < k.length; i++) {
            denom += k[i] * cInvK.values()[i];
        }
        if (!(denom > 0)) {
            throw new IllegalStateException("the subject's key has no weight under the key statistics (kᵀC⁻¹k = "
                    + denom + ")");
        }
        return new RankOne(Matrix.column(r).scale(1 / denom), cInvK);
    }

    /**
     * A rank-one update {@code ΔW = u vᵀ}.
     *
     * @param u [out, 1]
     * @param v [in, 1]
     */
    public record RankOne(Matrix u, Matrix v) {

        /** {@code u vᵀ}, [out, in]. */
        public Matrix delta() {
            return u.times(v.transpose());
        }
    }
}
