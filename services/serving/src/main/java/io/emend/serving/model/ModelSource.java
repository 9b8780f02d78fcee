package io.emend.serving.model;

import java.io.IOException;
import java.util.Optional;

/** Where models come from: one local directory (standalone) or the registry. */
public interface ModelSource {

    /**
     * The files of the base model {@code ref} names now (an alias resolves to its current version).
     *
     * @throws ModelNotFound when nothing matches
     */
    ModelFiles base(String ref) throws IOException;

    /**
     * The files of the delta {@code ref} names: a PEFT adapter, or an edit version's factors (only those, not its
     * materialized weights).
     *
     * @throws ModelNotFound when nothing matches
     */
    DeltaFiles delta(String ref) throws IOException;

    /**
     * When {@code ref} resolves to an edit version: its edit base's files and the edit's factors (serving the base
     * plus the factors gives the same model, but for the quantization of the factors' product), without fetching the
     * edit version's materialized weights. Empty for every other version (and standalone).
     */
    default Optional<EditOverBase> editOverBase(String ref) throws IOException {
        return Optional.empty();
    }

    /** An edit version as its edit base's files plus the edit's factors. */
    record EditOverBase(ModelFiles base, DeltaFiles delta) {
    }

    /** The model loaded at start (readiness waits for it), if any. */
    Optional<String> defaultModel();
}
