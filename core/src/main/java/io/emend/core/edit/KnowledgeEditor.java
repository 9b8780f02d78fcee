package io.emend.core.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.graph.Transformer;

import java.util.List;

/**
 * A knowledge-editing algorithm: turns prepared requests into low-rank factors on MLP down-projections. Implementations
 * are {@code edit.rome.RomeEditor}, {@code edit.memit.MemitEditor} and {@code edit.alphaedit.AlphaEditor}; find them by
 * name through {@link EditMethod}.
 */
public interface KnowledgeEditor {

    /** The method's name as requests spell it. */
    EditMethod method();

    /** The layers whose down-projection the method changes. */
    List<Integer> layers();

    /**
     * Computes the edits.
     *
     * @param prior edits already made on top of {@code model}: applied in every forward, not part of the result
     * @param stats key statistics of {@code model} covering {@link #layers()}
     * @return the new edits' factors only ({@code prior.plus(result)} is the edited model)
     * @throws java.util.concurrent.CancellationException when {@code progress} asks to stop
     * @throws IllegalStateException                      when an optimisation diverges
     */
    EditDelta edit(Transformer model, EditDelta prior, List<PreparedEdit> edits, KeyStatistics stats,
                   Progress progress);
}
