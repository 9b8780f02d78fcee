package io.emend.merger.text;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectNotFoundException;
import io.emend.contracts.store.StoredObject;
import io.emend.merger.MergerConfig;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryUnavailable;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Brings a named text onto local disk as plain text: a registry blob through the kit's verified {@link InputCache},
 * an object-store key read from the store the trainer's datasets land in, an inline text as it is; each at most
 * {@code emend.merger.limits.max-text-bytes}, then turned into plain text by {@link UnlabeledText}.
 */
@ApplicationScoped
public class TextFiles {

    private final InputCache cache;
    private final long maxBytes;
    private final Path storeRoot;
    private FilesystemObjectStore store;

    TextFiles(MergerConfig config, InputCache cache) {
        this.cache = cache;
        this.maxBytes = config.limits().maxTextBytes();
        this.storeRoot = config.objectStore().root();
    }

    /** @throws TextRejected for a malformed reference or an inline text over the limit */
    public TextReference parse(String field, String ref) {
        return TextReference.parse(field, ref, maxBytes);
    }

    /**
     * Checks at submission that the text exists and is within the limit (a registry blob is fetched into the cache,
     * where the job finds it again).
     *
     * @throws TextNotFound when the blob or key does not exist
     * @throws TextRejected when it is too large
     */
    public void check(String field, TextReference ref) throws IOException {
        switch (ref) {
            case TextReference.Inline inline -> {
                // parsed, and so within the limit, already
            }
            case TextReference.Blob blob -> blobFile(field, blob);
            case TextReference.ObjectKey key -> {
                Optional<StoredObject> stat = store().stat(key.key());
                if (stat.isEmpty()) {
                    throw new TextNotFound(field, field + " '" + key.ref() + "': no such object in the object store");
                }
                checkSize(field, key.ref(), stat.get().size());
            }
        }
    }

    /**
     * Reads the text a reference names and writes it as plain UTF-8 text to {@code target}.
     *
     * @throws TextNotFound when the blob or key does not exist
     * @throws TextRejected when it is too large or not text
     */
    public Path fetch(String field, TextReference ref, Path target) throws IOException {
        byte[] bytes = switch (ref) {
            case TextReference.Inline inline -> inline.bytes();
            case TextReference.Blob blob -> Files.readAllBytes(blobFile(field, blob));
            case TextReference.ObjectKey key -> object(field, key);
        };
        Files.createDirectories(target.toAbsolutePath().getParent());
        return Files.writeString(target, UnlabeledText.of(field, bytes));
    }

    private Path blobFile(String field, TextReference.Blob blob) throws IOException {
        Path file;
        try {
            file = cache.blob(blob.sha256());
        } catch (RegistryUnavailable e) {
            throw new TextNotFound(field, field + " '" + blob.ref() + "' cannot be read from the registry: "
                    + e.getMessage());
        }
        checkSize(field, blob.ref(), Files.size(file));
        return file;
    }

    private byte[] object(String field, TextReference.ObjectKey key) throws IOException {
        FilesystemObjectStore objects = store();
        Optional<StoredObject> stat = objects.stat(key.key());
        if (stat.isEmpty()) {
            throw new TextNotFound(field, field + " '" + key.ref() + "': no such object in the object store");
        }
        checkSize(field, key.ref(), stat.get().size());
        try (InputStream in = objects.get(key.key())) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            checkSize(field, key.ref(), bytes.length);
            return bytes;
        } catch (ObjectNotFoundException e) {
            throw new TextNotFound(field, field + " '" + key.ref() + "': no such object in the object store");
        }
    }

    private void checkSize(String field, String ref, long size) {
        if (size > maxBytes) {
            throw new TextRejected(field, field + " '" + ref + "' is " + size + " bytes, over this merger's limit of "
                    + maxBytes + " bytes (emend.merger.limits.max-text-bytes)");
        }
    }

    private synchronized FilesystemObjectStore store() throws IOException {
        if (store == null) {
            store = FilesystemObjectStore.open(storeRoot);
        }
        return store;
    }

    @PreDestroy
    synchronized void close() {
        if (store != null) {
            store.close();
        }
    }
}
