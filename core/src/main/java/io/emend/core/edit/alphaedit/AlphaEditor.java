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
import java.util.Optional;

/**
 * AlphaEdit: MEMIT's procedure with the {@link NullSpaceProjection} rule, over sequential batches of
 * {@link AlphaEditParams#batchSize()} requests. Each batch sees the earlier batches' edits in the model and their keys in
 * the rule, so later batches neither disturb preserved knowledge nor overwrite earlier edits. The written keys stay in
 * this editor, so calling {@link #edit} again continues the same sequence; {@link #writtenKeys()} hands them out to be
 * stored with the result, and an editor built with them continues the sequence in another process.
 *
 * <p>An editor works against one base's statistics: the projectors it was given or computed are reused for every call
 * with the same {@link KeyStatistics} object and recomputed for another.
 */
public final class AlphaEditor implements KnowledgeEditor {

    private final AlphaEditParams params;
    private final Map<Integer, Matrix> written = new HashMap<>();
    private int writtenEdits;
    private final Map<Integer, Matrix> given = new HashMap<>();
    private final Map<Integer, Matrix> projectors = new HashMap<>();
    private KeyStatistics projectorsFor;

    public AlphaEditor(AlphaEditParams params) {
        this(params, WrittenKeys.none(), Optional.empty());
    }

    /**
     * @param earlier     keys written by earlier jobs on the same lineage, protected like earlier batches' keys
     * @param projectors  P for the layers, computed earlier from the statistics this editor will be given
     * @throws IllegalArgumentException when {@code projectors} were chosen with another energy share
     */
    public AlphaEditor(AlphaEditParams params, WrittenKeys earlier, Optional<NullSpaceProjectors> projectors) {
        this.params = params;
        earlier.grams().forEach((layer, gram) -> written.put(layer, gram));
        this.writtenEdits = earlier.edits();
        projectors.ifPresent(p -> {
            if (p.energy() != params.nullSpaceEnergy()) {
                throw new IllegalArgumentException("the projectors were chosen at null-space energy " + p.energy()
                        + ", this editor uses " + params.nullSpaceEnergy());
            }
            given.putAll(p.layers());
        });
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

    /** The rule with this editor's accumulated keys and projectors, for inspection (P per layer). */
    public NullSpaceProjection rule(KeyStatistics stats) {
        if (projectorsFor != stats) {
            projectors.clear();
            projectors.putAll(given);
            projectorsFor = stats;
        }
        return new NullSpaceProjection(stats, params.nullSpaceEnergy(), params.regularization(), written, projectors);
    }

    /** The keys written so far, by earlier jobs this editor was given and by its own calls. */
    public WrittenKeys writtenKeys() {
        return new WrittenKeys(writtenEdits, written);
    }

    /** P for this editor's layers under {@code stats}: the ones it was given, the others computed now. */
    public NullSpaceProjectors projectors(KeyStatistics stats) {
        NullSpaceProjection rule = rule(stats);
        Map<Integer, Matrix> p = new HashMap<>();
        for (int layer : layers()) {
            p.put(layer, rule.projector(layer));
        }
        return new NullSpaceProjectors(params.nullSpaceEnergy(), stats.keyDim(), p);
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
            writtenEdits += batch.size();
        }
        return made;
    }
}
