package io.emend.core.edit.alphaedit;

import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.memit.MemitEditor;
import io.emend.core.graph.Transformer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * AlphaEdit: MEMIT's procedure with the {@link NullSpaceProjection} rule, over sequential batches of
 * {@link AlphaEditParams#batchSize()} requests. Each batch sees the earlier batches' edits in the model and their keys in
 * the rule, so later batches neither disturb preserved knowledge nor overwrite earlier edits. The written keys stay in
 * this editor, so calling {@link #edit} again continues the same sequence.
 */
public final class AlphaEditor implements KnowledgeEditor {

    private final AlphaEditParams params;
    private final Map<Integer, Matrix> written = new HashMap<>();

    public AlphaEditor(AlphaEditParams params) {
        this.params = params;
    }

    @Override
    public EditMethod method() {
        return EditMethod.ALPHAEDIT;
    }

    @Override
    public List<Integer> layers() {
        return params.memit().layers();
    }

    public AlphaEditParams params() {
        return params;
    }

    /** The rule with this editor's accumulated keys, for inspection (P per layer). */
    public NullSpaceProjection rule(KeyStatistics stats) {
        return new NullSpaceProjection(stats, params.nullSpaceEnergy(), params.regularization(), written);
    }

    @Override
    public EditDelta edit(Transformer model, EditDelta prior, List<PreparedEdit> edits, KeyStatistics stats,
                          Progress progress) {
        stats.requireFits(model, layers());
        NullSpaceProjection rule = rule(stats);
        MemitEditor memit = new MemitEditor(params.memit(), EditMethod.ALPHAEDIT, rule);
        EditDelta made = EditDelta.empty(method().id());
        for (int from = 0; from < edits.size(); from += params.batchSize()) {
            List<PreparedEdit> batch = edits.subList(from, Math.min(edits.size(), from + params.batchSize()));
            int first = from;
            Progress inBatch = new Progress() {
                @Override
                public void report(String phase, long done, long total) {
                    progress.report(phase + " (batch from request " + first + ")", done, total);
                }

                @Override
                public boolean cancelled() {
                    return progress.cancelled();
                }
            };
            made = made.plus(memit.edit(model, prior.plus(made), batch, stats, inBatch));
        }
        return made;
    }
}
