package io.emend.service.input;

import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.ResolvedVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Input files kept on local disk under their sha256, so a version used twice (or two versions sharing files) is
 * downloaded once. A file enters the cache only after its digest and size are checked, through a temporary name and
 * an atomic rename, so a crash mid-download never leaves a wrong file under a digest's name.
 */
public class InputCache {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Path root;
    private final RegistryClient registry;

    /** @param root the cache directory ({@code emend.<service>.storage.cache-dir}) */
    public InputCache(Path root, RegistryClient registry) {
        this.root = root.toAbsolutePath();
        this.registry = registry;
    }

    /**
     * Lays a version out as a model directory under {@code dir}: each manifest path a link to its cached, verified
     * file.
     */
    public Path materialize(ResolvedVersion version, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (ResolvedVersion.ManifestEntry entry : version.manifest()) {
            Path file = placeOf(version, entry, dir);
            Files.createDirectories(file.getParent());
            Files.createSymbolicLink(file, blob(entry));
        }
        return dir;
    }

    /**
     * Where a manifest entry goes in a directory laid out for its version.
     *
     * @throws RegistryUnavailable when the entry's path would leave {@code dir}
     */
    public static Path placeOf(ResolvedVersion version, ResolvedVersion.ManifestEntry entry, Path dir) {
        Path file = dir.resolve(entry.path()).normalize();
        if (!file.startsWith(dir) || file.equals(dir)) {
            throw new RegistryUnavailable("version " + version.exactRef() + " lists an artifact path outside its"
                    + " directory: '" + entry.path() + "'");
        }
        return file;
    }

    /** The cached file holding {@code entry}'s bytes, downloaded and verified first if needed. */
    public Path blob(ResolvedVersion.ManifestEntry entry) throws IOException {
        String sha = entry.sha256();
        if (sha == null || !SHA256.matcher(sha).matches()) {
            throw new RegistryUnavailable("artifact '" + entry.path() + "' has no valid sha256 in its manifest");
        }
        return fetch(sha, entry.size(), "artifact '" + entry.path() + "'", "its manifest says");
    }

    /**
     * The cached file holding the registry blob with this digest (any size), downloaded and verified first if needed.
     *
     * @throws IllegalArgumentException when {@code sha256} is not 64 lower-case hex digits
     */
    public Path blob(String sha256) throws IOException {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256 digest (64 lower-case hex digits): '" + sha256 + "'");
        }
        return fetch(sha256, -1, "blob " + sha256, "it was asked for as");
    }

    /** @param size the expected size, or -1 when only the digest is known */
    private Path fetch(String sha, long size, String what, String claim) throws IOException {
        Path cached = root.resolve(sha.substring(0, 2)).resolve(sha);
        if (Files.isRegularFile(cached)) {
            return cached;
        }
        Files.createDirectories(cached.getParent());
        Path partial = Files.createTempFile(cached.getParent(), sha, ".partial");
        try {
            registry.downloadBlob(sha, partial);
            long actualSize = Files.size(partial);
            String actual = sha256(partial);
            if (!actual.equals(sha) || (size >= 0 && actualSize != size)) {
                throw new RegistryUnavailable(what + " arrived with sha256 " + actual + " and " + actualSize
                        + " bytes, but " + claim + " " + sha + (size >= 0 ? " and " + size + " bytes" : ""));
            }
            try {
                Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // another job cached the same verified bytes meanwhile; theirs are as good as ours
            }
            return cached;
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** Hex sha256 of a file, read in 1 MiB blocks. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] block = new byte[1 << 20];
            for (int n; (n = in.read(block)) > 0; ) {
                digest.update(block, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
