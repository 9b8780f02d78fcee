package io.emend.service.input;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectNotFoundException;
import io.emend.contracts.store.StoredObject;
import io.emend.service.registry.RegistryUnavailable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The files a request names by an object-store key (where pipelines land data) or by a registry blob digest, each at
 * most a service's byte limit: found or {@link InputNotFound}, within the limit or {@link InputTooLarge}, checked
 * before anything is read where the size is known. What a service then does with the bytes (copy and hash them, read
 * them as text) stays in the service. The store is opened on first use, so a service that is never asked for a key
 * never touches it.
 */
public class InputFiles implements AutoCloseable {

    private final Path storeRoot;
    private final InputCache cache;
    private final long maxBytes;
    private final String service;
    private final String limitKey;
    private FilesystemObjectStore store;

    /**
     * @param storeRoot the object store's root ({@code emend.<service>.object-store.root})
     * @param maxBytes  the largest file accepted
     * @param service   the service's name, for messages
     * @param limitKey  the configuration key that sets {@code maxBytes}, for messages
     */
    public InputFiles(Path storeRoot, InputCache cache, long maxBytes, String service, String limitKey) {
        this.storeRoot = storeRoot;
        this.cache = cache;
        this.maxBytes = maxBytes;
        this.service = service;
        this.limitKey = limitKey;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /**
     * The verified local copy of a registry blob, its size checked.
     *
     * @param field the request field naming it, for messages
     * @param ref   the reference as the request wrote it, for messages
     * @throws InputNotFound when the registry cannot give the blob
     * @throws InputTooLarge when it is over the limit
     */
    public Path blob(String field, String ref, String sha256) throws IOException {
        Path file;
        try {
            file = cache.blob(sha256);
        } catch (RegistryUnavailable e) {
            throw new InputNotFound(field, field + " '" + ref + "' cannot be read from the registry: "
                    + e.getMessage());
        }
        checkSize(field, ref, Files.size(file));
        return file;
    }

    /**
     * The size of the object under {@code key}.
     *
     * @throws InputNotFound when there is no such object
     * @throws InputTooLarge when it is over the limit
     */
    public long size(String field, String key) throws IOException {
        Optional<StoredObject> stat = store().stat(key);
        if (stat.isEmpty()) {
            throw notFound(field, key);
        }
        checkSize(field, key, stat.get().size());
        return stat.get().size();
    }

    /**
     * Opens the object under {@code key} once {@link #size} has passed. The object may be replaced while it is read,
     * so a caller checks what it read with {@link #checkSize}.
     */
    public InputStream open(String field, String key) throws IOException {
        size(field, key);
        try {
            return store().get(key);
        } catch (ObjectNotFoundException e) {
            // deleted between the stat and the open
            throw notFound(field, key);
        }
    }

    /** @throws InputTooLarge when {@code size} is over the limit */
    public void checkSize(String field, String ref, long size) {
        if (size > maxBytes) {
            throw new InputTooLarge(field, field + " '" + ref + "' is " + size + " bytes, over this " + service
                    + "'s limit of " + maxBytes + " bytes (" + limitKey + ")");
        }
    }

    private static InputNotFound notFound(String field, String key) {
        return new InputNotFound(field, field + " '" + key + "': no such object in the object store");
    }

    private synchronized FilesystemObjectStore store() throws IOException {
        if (store == null) {
            store = FilesystemObjectStore.open(storeRoot);
        }
        return store;
    }

    @Override
    public synchronized void close() {
        if (store != null) {
            store.close();
        }
    }
}
