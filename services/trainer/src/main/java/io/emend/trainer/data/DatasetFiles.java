package io.emend.trainer.data;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectNotFoundException;
import io.emend.contracts.store.StoredObject;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.trainer.TrainerConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Brings a job's data files onto local disk, checked: an object-store key is copied out of the store (so a later
 * overwrite of the key cannot change what a resumed job reads) and hashed on the way; a registry blob digest
 * ({@code sha256:<hex>}) comes through the kit's verified {@link InputCache}. Every file must be at most
 * {@code emend.trainer.limits.max-dataset-bytes}, checked before anything is copied where the size is known.
 */
@ApplicationScoped
public class DatasetFiles {

    private final InputCache cache;
    private final long maxBytes;
    private final Path storeRoot;
    private FilesystemObjectStore store;

    DatasetFiles(TrainerConfig config, InputCache cache) {
        this.cache = cache;
        this.maxBytes = config.limits().maxDatasetBytes();
        this.storeRoot = config.objectStore().root();
    }

    /**
     * A local, verified copy of a data file.
     *
     * @param sha256 the bytes' digest
     */
    public record Fetched(Path file, String sha256, long size) {
    }

    /**
     * Fetches {@code ref} into {@code target}.
     *
     * @param field          the request field naming it, for messages
     * @param expectedSha256 the digest the file must have (a {@code dataset.landed} file), or empty
     * @throws DatasetRejected when the file is missing, too large or not what its digest says
     */
    public Fetched fetch(String field, String ref, Optional<String> expectedSha256, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        if (ref.startsWith("sha256:")) {
            String sha = ref.substring("sha256:".length());
            Path blob;
            try {
                blob = cache.blob(sha);
            } catch (RegistryUnavailable e) {
                throw new DatasetRejected(field, field + " '" + ref + "' cannot be read from the registry: "
                        + e.getMessage());
            }
            long size = Files.size(blob);
            checkSize(field, ref, size);
            Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
            return new Fetched(target, sha, size);
        }
        FilesystemObjectStore objects = store();
        Optional<StoredObject> stat = objects.stat(ref);
        if (stat.isEmpty()) {
            throw new DatasetRejected(field, field + " '" + ref + "': no such object in the object store");
        }
        checkSize(field, ref, stat.get().size());
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        MessageDigest digest = sha256();
        long size;
        try (InputStream in = objects.get(ref);
                OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), digest)) {
            size = in.transferTo(out);
        } catch (ObjectNotFoundException e) {
            throw new DatasetRejected(field, field + " '" + ref + "': no such object in the object store");
        }
        checkSize(field, ref, size);
        String sha = HexFormat.of().formatHex(digest.digest());
        if (expectedSha256.isPresent() && !expectedSha256.get().equalsIgnoreCase(sha)) {
            Files.deleteIfExists(partial);
            throw new DatasetRejected(field, field + " '" + ref + "' has sha256 " + sha + ", but it was announced as "
                    + expectedSha256.get());
        }
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Fetched(target, sha, size);
    }

    /** Non-blank lines of a JSONL file: its examples. */
    public static int examples(Path file) {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return (int) reader.lines().filter(l -> !l.isBlank()).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (UncheckedIOException e) {
            // not UTF-8: the JSONL reader reports it with the file's name; count nothing here
            return 0;
        }
    }

    private void checkSize(String field, String ref, long size) {
        if (size > maxBytes) {
            throw new DatasetRejected(field, field + " '" + ref + "' is " + size + " bytes, over this trainer's limit"
                    + " of " + maxBytes + " bytes (emend.trainer.limits.max-dataset-bytes)");
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

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
