package io.emend.editor.statistics;

import io.emend.service.input.InputCache;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Files the editor derives from a base (key statistics, null-space projectors), kept in a local directory under their
 * sha256. Edit versions list them as artifacts, so when the local copy is gone (another replica, a lost disk) the
 * registry's blob store has them by the same digest.
 */
final class DerivedFiles {

    /** Where a writer puts a file before it is named by its digest. */
    interface Writer {
        void write(Path file) throws IOException;
    }

    private final Path root;
    private final InputCache cache;

    DerivedFiles(Path root, InputCache cache) {
        this.root = root;
        this.cache = cache;
    }

    /** A file kept under its sha256. */
    record Kept(Path file, String sha256, long size) {
    }

    /** Writes through a temp file, then renames it to its sha256 (the same bytes already there are kept). */
    Kept keep(String prefix, Writer writer) throws IOException {
        Files.createDirectories(root);
        Path written = Files.createTempFile(root, prefix, ".partial");
        try {
            writer.write(written);
            String sha = InputCache.sha256(written);
            Path file = root.resolve(sha);
            try {
                Files.move(written, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // the same bytes were stored meanwhile
            }
            return new Kept(file, sha, Files.size(file));
        } finally {
            Files.deleteIfExists(written);
        }
    }

    /**
     * The local copy, else the registry's blob.
     *
     * @throws IOException or {@link io.emend.service.registry.RegistryUnavailable} when neither has it
     */
    Path find(String sha256) throws IOException {
        Path local = root.resolve(sha256);
        return Files.isRegularFile(local) ? local : cache.blob(sha256);
    }
}
