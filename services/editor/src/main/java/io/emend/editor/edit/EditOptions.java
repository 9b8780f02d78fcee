package io.emend.editor.edit;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Optional;

/**
 * How an edit runs, beyond the method's defaults ({@link io.emend.core.edit.EditDefaults}).
 *
 * @param layers    the layers to edit instead of the defaults for the architecture and depth (ROME takes one)
 * @param seed      seed of the model-written context prefixes, so a job re-run gives the same factors
 * @param batchSize AlphaEdit's sequential batch size
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record EditOptions(Optional<List<Integer>> layers, long seed, int batchSize) {

    /** AlphaEdit's published batch size. */
    public static final int DEFAULT_BATCH_SIZE = 100;

    public EditOptions {
        layers = layers == null ? Optional.empty() : layers.map(List::copyOf);
    }

    public static EditOptions defaults() {
        return new EditOptions(Optional.empty(), 0, DEFAULT_BATCH_SIZE);
    }
}
