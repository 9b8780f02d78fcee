package io.emend.trainer.data;

import io.emend.service.input.InputCache;
import io.emend.service.input.InputFiles;
import io.emend.service.input.InputNotFound;
import io.emend.service.input.InputTooLarge;
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
 * ({@code sha256:<hex>}) comes verified from the registry. Both are found and held to
 * {@code emend.trainer.limits.max-dataset-bytes} by the kit's {@link InputFiles}, before anything is copied where
 * the size is known.
 */
@ApplicationScoped
public class DatasetFiles {

    private final InputFiles inputs;

    DatasetFiles(TrainerConfig config, InputCache cache) {
        this.inputs = new InputFiles(config.objectStore().root(), cache, config.limits().maxDatasetBytes(), "trainer",
                "emend.trainer.limits.max-dataset-bytes");
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
     * @throws InputNotFound   when the file is missing
     * @throws InputTooLarge   when it is too large
     * @throws DatasetRejected when it is not what its digest says
     */
    public Fetched fetch(String field, String ref, Optional<String> expectedSha256, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        if (ref.startsWith("sha256:")) {
            String sha = ref.substring("sha256:".length());
            Path blob = inputs.blob(field, ref, sha);
            Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
            return new Fetched(target, sha, Files.size(target));
        }
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        MessageDigest digest = sha256();
        long size;
        try (InputStream in = inputs.open(field, ref);
                OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), digest)) {
            size = in.transferTo(out);
        }
        inputs.checkSize(field, ref, size);
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

    @PreDestroy
    void close() {
        inputs.close();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
