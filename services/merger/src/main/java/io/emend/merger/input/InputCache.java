package io.emend.merger.input;

import io.emend.merger.MergerConfig;
import io.emend.merger.registry.RegistryClient;
import io.emend.merger.registry.RegistryUnavailable;
import io.emend.merger.registry.ResolvedVersion;
import jakarta.enterprise.context.ApplicationScoped;
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
 * Input files kept on local disk under their sha256, so a version merged twice (or two versions sharing files) is
 * downloaded once. A file enters the cache only after its digest and size are checked, through a temporary name and
 * an atomic rename, so a crash mid-download never leaves a wrong file under a digest's name.
 */
@ApplicationScoped
public class InputCache {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Path root;
    private final RegistryClient registry;

    InputCache(MergerConfig config, RegistryClient registry) {
        this.root = config.storage().cacheDir().toAbsolutePath();
        this.registry = registry;
    }

    /**
     * Lays a version out as a model directory under {@code dir}: each manifest path a link to its cached, verified
     * file.
     */
    public Path materialize(ResolvedVersion version, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (ResolvedVersion.ManifestEntry entry : version.manifest()) {
            Path file = dir.resolve(entry.path()).normalize();
            if (!file.startsWith(dir) || file.equals(dir)) {
                throw new RegistryUnavailable("version " + version.exactRef() + " lists an artifact path outside its"
                        + " directory: '" + entry.path() + "'");
            }
            Files.createDirectories(file.getParent());
            Files.createSymbolicLink(file, blob(entry));
        }
        return dir;
    }

    /** The cached file holding {@code entry}'s bytes, downloaded and verified first if needed. */
    Path blob(ResolvedVersion.ManifestEntry entry) throws IOException {
        String sha = entry.sha256();
        if (sha == null || !SHA256.matcher(sha).matches()) {
            throw new RegistryUnavailable("artifact '" + entry.path() + "' has no valid sha256 in its manifest");
        }
        Path cached = root.resolve(sha.substring(0, 2)).resolve(sha);
        if (Files.isRegularFile(cached)) {
            return cached;
        }
        Files.createDirectories(cached.getParent());
        Path partial = Files.createTempFile(cached.getParent(), sha, ".partial");
        try {
            registry.downloadBlob(sha, partial);
            long size = Files.size(partial);
            String actual = sha256(partial);
            if (!actual.equals(sha) || size != entry.size()) {
                throw new RegistryUnavailable("artifact '" + entry.path() + "' arrived with sha256 " + actual + " and "
                        + size + " bytes, but its manifest says " + sha + " and " + entry.size() + " bytes");
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
