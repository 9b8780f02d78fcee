package io.emend.serving.registry;

import io.emend.contracts.store.DigestMismatchException;
import io.emend.contracts.store.ObjectKeys;
import io.emend.contracts.store.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Versions' files on local disk, content-addressed: {@code blobs/<sha256>} holds each file once, verified against its
 * digest before it is kept, and {@code versions/<digest>/} lays a version out as a model directory (hard links to the
 * blobs). Nothing half-written is ever visible: files and directories appear by atomic rename. Two versions sharing a
 * file (a fine-tune's tokenizer, say) download it once.
 */
public final class ArtifactCache {

    private final Path root;
    private final RegistryClient registry;
    private final Optional<ObjectStore> store;

    /**
     * @param store read blobs from this object store (the registry's own) instead of over REST, when given
     */
    public ArtifactCache(Path root, RegistryClient registry, Optional<ObjectStore> store) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.registry = registry;
        this.store = store;
        Files.createDirectories(this.root.resolve("blobs"));
        Files.createDirectories(this.root.resolve("versions"));
        Files.createDirectories(this.root.resolve("tmp"));
    }

    /** The version's content digest: SHA-256 over its manifest's paths and digests in path order. */
    public static String digest(List<ResolvedVersion.Entry> manifest) {
        MessageDigest sha = sha256();
        manifest.stream().sorted(Comparator.comparing(ResolvedVersion.Entry::path)).forEach(e ->
                sha.update((e.path() + "\0" + ObjectKeys.sha256(e.sha256()) + "\n").getBytes(StandardCharsets.UTF_8)));
        return HexFormat.of().formatHex(sha.digest());
    }

    /**
     * The version laid out as a directory, downloading what is missing.
     *
     * @throws DigestMismatchException when a downloaded file is not what the manifest says (nothing is kept)
     * @throws IllegalArgumentException for a manifest path that would leave the directory
     */
    public Path materialize(List<ResolvedVersion.Entry> manifest) throws IOException {
        String digest = digest(manifest);
        Path dir = root.resolve("versions").resolve(digest);
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Path staging = root.resolve("tmp").resolve(digest + "." + UUID.randomUUID());
        Files.createDirectories(staging);
        try {
            for (ResolvedVersion.Entry e : manifest) {
                Path blob = blob(e.sha256(), e.size());
                Path target = staging.resolve(ObjectKeys.validate(e.path()));
                Files.createDirectories(target.getParent());
                try {
                    Files.createLink(target, blob);
                } catch (UnsupportedOperationException | IOException linkFailed) {
                    Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                // another load of the same version finished first; its directory is identical
            }
            return dir;
        } finally {
            deleteTree(staging);
        }
    }

    /** The verified blob, downloaded unless already here. */
    Path blob(String sha256, long size) throws IOException {
        String hex = ObjectKeys.sha256(sha256);
        Path path = root.resolve("blobs").resolve(hex);
        if (Files.isRegularFile(path)) {
            return path;
        }
        Path tmp = root.resolve("tmp").resolve(hex + "." + UUID.randomUUID());
        MessageDigest sha = sha256();
        try (InputStream in = new DigestInputStream(store.isPresent() ? store.get().get(ObjectKeys.blob(hex))
                : registry.blob(hex), sha); OutputStream out = Files.newOutputStream(tmp)) {
            in.transferTo(out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        long got = Files.size(tmp);
        if (!actual.equals(hex) || got != size) {
            Files.deleteIfExists(tmp);
            throw new DigestMismatchException(ObjectKeys.blob(hex) + " (" + got + " bytes, manifest says " + size + ")",
                    hex, actual);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
        }
        return path;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
