package io.emend.contracts.store;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Where Emend keeps bytes: model files, adapters, checkpoints, datasets. Keys are relative, slash-separated paths
 * ({@code blobs/sha256/ab12...}); they never start with a slash and never contain {@code ..} segments.
 * Implementations: a directory on the local filesystem, and any S3-compatible service. Both pass the same contract tests.
 * Keys are checked by {@link ObjectKeys}; an invalid key is an {@link IllegalArgumentException}.
 *
 * <p>Writes are atomic: a reader sees either no object or the whole object, never a partial one.
 */
public interface ObjectStore extends AutoCloseable {

    /**
     * Streams {@code data} into the store under {@code key}, computing its SHA-256 on the way. When
     * {@code expectedSha256} is given and differs from what arrived, nothing is kept and {@link DigestMismatchException}
     * is thrown. The stream is consumed but not closed; it is never held whole in memory.
     */
    StoredObject put(String key, InputStream data, Optional<String> expectedSha256) throws IOException;

    /** Size and last-modified time of an object, or empty when absent. */
    Optional<StoredObject> stat(String key) throws IOException;

    /**
     * The whole object. The caller closes the stream.
     *
     * @throws ObjectNotFoundException when nothing is stored under {@code key}
     */
    InputStream get(String key) throws IOException;

    /**
     * {@code length} bytes starting at {@code offset} (clamped to the object's end: an offset at or past the end
     * gives an empty stream). The caller closes the stream.
     *
     * @throws IllegalArgumentException when {@code offset} or {@code length} is negative
     * @throws ObjectNotFoundException when nothing is stored under {@code key}
     */
    InputStream get(String key, long offset, long length) throws IOException;

    /** Every object whose key starts with {@code prefix}, in key order. */
    List<StoredObject> list(String prefix) throws IOException;

    /** Removes the object; absent keys are not an error. */
    void delete(String key) throws IOException;

    @Override
    void close();
}
