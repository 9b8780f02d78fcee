package io.emend.serving.model;

import java.io.IOException;

/** Where models come from: one local directory (standalone) or the registry. */
public interface ModelSource {

    /**
     * The files of the base model {@code ref} names now (an alias resolves to its current version).
     *
     * @throws ModelNotFound when nothing matches
     */
    ModelFiles base(String ref) throws IOException;

    /**
     * The files of the PEFT adapter {@code ref} names.
     *
     * @throws ModelNotFound when nothing matches
     */
    ModelFiles adapter(String ref) throws IOException;

    /** The model loaded at start (readiness waits for it), if any. */
    java.util.Optional<String> defaultModel();
}
