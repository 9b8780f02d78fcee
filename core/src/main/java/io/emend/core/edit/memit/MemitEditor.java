package io.emend.core.edit.memit;

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

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MEMIT (Mass-Editing Memory in a Transformer): all requests at once, spread over a range of layers.
 * <ol>
 *   <li>For each request, the hidden state z = z₀ + δ after the last layer of the range that makes the model say the
 *       new target ({@link TargetValue} at that layer's block output).</li>
 *   <li>For each layer l of the range in turn, with the updates of earlier layers in place: the keys K at l, the
 *       current hidden states at the last layer, and the residual share {@code R = (Z − Z_cur) / (layers left)}; then
 *       {@code ΔW_l = R Vᵀ} with V from the {@link UpdateRule} (MEMIT's {@link LeastSquares} by default).</li>
 * </ol>
 * U = R and V per layer, one column per request.
 */
public final class MemitEditor implements KnowledgeEditor {

    private final MemitParams params;
    private final EditMethod method;
    private final UpdateRule rule;

    /** MEMIT proper: the least-squares rule against the statistics passed to {@link #edit}. */
    public MemitEditor(MemitParams params) {
        this(params, EditMethod.MEMIT, null);
    }

    /**
     * A MEMIT-shaped editor with another update rule (AlphaEdit).
     *
     * @param rule the rule, or null for MEMIT's least squares
     */
    public MemitEditor(MemitParams params, EditMethod method, UpdateRule rule) {
        this.params = params;
        this.method = method;
        this.rule = rule;
    }

    @Override
    public EditMethod method() {
        return method;
    }

    @Override
    public List<Integer> layers() {
        return params.layers();
    }

    public MemitParams params() {
        return params;
    }

    @Override
    public EditDelta edit(Transformer model, EditDelta prior, List<PreparedEdit> edits, KeyStatistics stats,
                          Progress progress) {
        requireEditable(model);
        stats.requireFits(model, params.layers());
        return spread(model, prior, edits, targets(model, prior, edits, progress), stats, progress);
    }

    private void requireEditable(Transformer model) {
        if (params.layers().getLast() > EditDefaults.highestEditableLayer(model.layers())) {
            throw new IllegalArgumentException(method.id() + " layers " + params.layers() + " reach the last of the "
                    + "model's " + model.layers() + " layers or past it; the target z after the last layer cannot "
                    + "reach the tokens after the subject");
        }
    }

    /**
     * Step 1: for each request, the hidden state after the last layer of the range that makes the model say the new
     * target. It depends on the last layer and the target options only, so callers comparing layer ranges that end at
     * the same layer, or covariance weights, can find it once and {@link #spread} it several times.
     *
     * @throws IllegalArgumentException when the last layer is the model's last
     */
    public List<TargetValue> targets(Transformer model, EditDelta prior, List<PreparedEdit> edits, Progress progress) {
        requireEditable(model);
        Probe zSite = Probe.blockOutput(params.layers().getLast());
        List<TargetValue> targets = new ArrayList<>();
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardOptions options = prior.applyTo(ForwardOptions.defaults(), scope);
            for (int i = 0; i < edits.size(); i++) {
                progress.report(method.id() + " targets", i, edits.size());
                PreparedEdit e = edits.get(i);
                targets.add(TargetValue.optimize(model, options, zSite, e.rewriting(), e.target(), e.kl(),
                        params.target(), progress));
            }
        }
        return targets;
    }

    /**
     * Step 2: writes the targets over the layers, each layer in turn taking its share of what is left.
     *
     * @param targets one per edit, from {@link #targets} with an editor whose last layer is this one's
     */
    public EditDelta spread(Transformer model, EditDelta prior, List<PreparedEdit> edits, List<TargetValue> targets,
                            KeyStatistics stats, Progress progress) {
        if (targets.size() != edits.size()) {
            throw new IllegalArgumentException(targets.size() + " targets for " + edits.size() + " edits");
        }
        List<Integer> layers = params.layers();
        stats.requireFits(model, layers);
        UpdateRule update = rule != null ? rule : new LeastSquares(stats::layer, params.covarianceWeight());
        Probe zSite = Probe.blockOutput(layers.getLast());
        List<double[]> columns = new ArrayList<>();
        for (TargetValue t : targets) {
            float[] f = t.target();
            double[] d = new double[f.length];
            for (int j = 0; j < d.length; j++) {
                d[j] = f[j];
            }
            columns.add(d);
        }
        Matrix z = Matrix.ofColumns(columns);
        EditDelta made = EditDelta.empty(method.id());
        for (int li = 0; li < layers.size(); li++) {
            int layer = layers.get(li);
            progress.report(method.id() + " layers", li, layers.size());
            progress.checkCancelled();
            Matrix keys;
            Matrix current;
            try (NDManager scope = NDManager.newBaseManager()) {
                ForwardOptions options = prior.plus(made).applyTo(ForwardOptions.defaults(), scope);
                keys = SiteKeys.keys(model, options, layer, edits);
                current = SiteKeys.atBarePrompts(model, options, zSite, edits);
            }
            Matrix residual = z.minus(current).scale(1.0 / (layers.size() - li));
            Matrix v = update.rightFactor(layer, keys);
            DownProjection down = DownProjection.of(model, layer);
            made = made.plus(new EditDelta(method.id(), 0, Map.of(down.name(), down.factors(residual, v))));
            update.written(layer, keys);
        }
        progress.report(method.id() + " layers", layers.size(), layers.size());
        return new EditDelta(method.id(), edits.size(), made.factors());
    }
}
