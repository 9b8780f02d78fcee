package io.emend.contracts.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An {@link ObjectStore} in a directory: the object under key {@code a/b/c} is the file {@code root/a/b/c}, so the
 * directory can be browsed, and files copied into it by hand are objects. Uploads go to a temporary file under
 * {@code root/.staging/} (same filesystem, so the final rename is atomic), are hashed on the way, forced to disk, and
 * renamed into place only when their digest matches. A reader therefore sees the old object or the new one, whole.
 *
 * <p>Keys whose first segment is {@code .staging} are reserved. Because a file cannot also be a directory, this store
 * cannot hold both {@code a} and {@code a/b}; such a put fails with a message saying so.
 */
public final class FilesystemObjectStore implements ObjectStore {

    /** The directory under the root where uploads are written before they are renamed into place. */
    public static final String STAGING = ".staging";

    /** Staged files older than this were left by a crashed writer; {@link #open} removes them. */
    private static final Duration STALE_STAGING = Duration.ofDays(1);

    private static final int BUFFER_BYTES = 64 * 1024;

    private final Path root;
    private final Path staging;

    private FilesystemObjectStore(Path root) {
        this.root = root;
        this.staging = root.resolve(STAGING);
    }

    /** Opens (creating it when absent) the store rooted at {@code root}, clearing uploads a crash left behind. */
    public static FilesystemObjectStore open(Path root) throws IOException {
        Objects.requireNonNull(root, "root");
        Path absolute = root.toAbsolutePath().normalize();
        Files.createDirectories(absolute.resolve(STAGING));
        FilesystemObjectStore store = new FilesystemObjectStore(absolute);
        store.removeStaleStaging();
        return store;
    }

    public Path root() {
        return root;
    }

    @Override
    public StoredObject put(String key, InputStream data, Optional<String> expectedSha256) throws IOException {
        Path target = path(key);
        Objects.requireNonNull(data, "data");
        Optional<String> expected = expectedSha256.map(ObjectKeys::sha256);
        Files.createDirectories(staging);
        Path temp = Files.createTempFile(staging, "put-", ".part");
        try {
            MessageDigest sha = sha256();
            long size = 0;
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[BUFFER_BYTES];
                ByteBuffer view = ByteBuffer.wrap(buffer);
                int n;
                while ((n = data.read(buffer)) != -1) {
                    sha.update(buffer, 0, n);
                    view.clear().limit(n);
                    while (view.hasRemaining()) {
                        out.write(view);
                    }
                    size += n;
                }
                // Forced before the rename: after a crash the key names either the old bytes or the complete new ones.
                out.force(true);
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (expected.isPresent() && !expected.get().equals(actual)) {
                throw new DigestMismatchException(key, expected.get(), actual);
            }
            moveIntoPlace(key, temp, target);
            return new StoredObject(key, size, Optional.of(actual),
                    Files.getLastModifiedTime(target).toInstant());
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public Optional<StoredObject> stat(String key) throws IOException {
        Path file = path(key);
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                return Optional.empty();
            }
            return Optional.of(new StoredObject(key, attributes.size(), Optional.empty(),
                    attributes.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException | NotDirectoryException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream get(String key) throws IOException {
        return get(key, 0, Long.MAX_VALUE);
    }

    @Override
    public InputStream get(String key, long offset, long length) throws IOException {
        Path file = path(key);
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("range of " + key + " must not be negative: offset " + offset
                    + ", length " + length);
        }
        if (!Files.isRegularFile(file)) {
            throw new ObjectNotFoundException(key);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException(key);
        }
        // The open channel pins this version of the file: a concurrent overwrite renames a new file over the name
        // and this reader keeps the bytes it started with.
        try {
            long available = Math.max(0, channel.size() - offset);
            channel.position(Math.min(offset, channel.size()));
            return new RangeInputStream(Channels.newInputStream(channel), Math.min(length, available));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        ObjectKeys.validatePrefix(prefix);
        // Walk only the deepest directory the prefix names completely; the rest of the prefix filters names.
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(start, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<StoredObject> found = new ArrayList<>();
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                return dir.equals(staging) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    String key = key(file);
                    if (key.startsWith(prefix)) {
                        found.add(new StoredObject(key, attributes.size(), Optional.empty(),
                                attributes.lastModifiedTime().toInstant()));
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // deleted while we walked: not listed, as if we came later
                }
                throw e;
            }
        });
        found.sort((a, b) -> ObjectKeys.ORDER.compare(a.key(), b.key()));
        return List.copyOf(found);
    }

    @Override
    public void delete(String key) throws IOException {
        Path file = path(key);
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            return; // a directory holds other keys; it is not an object
        }
        try {
            Files.deleteIfExists(file);
        } catch (NotDirectoryException e) {
            return;
        }
        // Empty directories are pruned so that a later put of a key equal to their path is possible.
        for (Path dir = file.getParent(); dir != null && !dir.equals(root); dir = dir.getParent()) {
            try {
                Files.delete(dir);
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                break;
            }
        }
    }

    @Override
    public void close() {
        // nothing held open between calls
    }

    @Override
    public String toString() {
        return "FilesystemObjectStore[" + root + "]";
    }

    private Path path(String key) {
        ObjectKeys.validate(key);
        if (key.equals(STAGING) || key.startsWith(STAGING + "/")) {
            throw new IllegalArgumentException("invalid object key \"" + key + "\": " + STAGING
                    + " is reserved for uploads in progress");
        }
        return root.resolve(key);
    }

    private String key(Path file) {
        Path relative = root.relativize(file);
        StringBuilder key = new StringBuilder();
        for (Path segment : relative) {
            if (!key.isEmpty()) {
                key.append('/');
            }
            key.append(segment);
        }
        return key.toString();
    }

    private void moveIntoPlace(String key, Path temp, Path target) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                Files.createDirectories(target.getParent());
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                break;
            } catch (NoSuchFileException e) {
                // A concurrent delete pruned the parent directory between creating and renaming; create it again.
                if (attempt == 3) {
                    throw e;
                }
            } catch (FileAlreadyExistsException | NotDirectoryException e) {
                throw new IOException("cannot store " + key + ": a parent of it is already an object, and a "
                        + "filesystem store cannot hold both", e);
            } catch (DirectoryNotEmptyException e) {
                throw new IOException("cannot store " + key + ": other objects are stored under " + key
                        + "/, and a filesystem store cannot hold both", e);
            } catch (FileSystemException e) {
                if (!(e instanceof AccessDeniedException) && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("cannot store " + key + ": other objects are stored under " + key
                            + "/, and a filesystem store cannot hold both", e);
                }
                throw e;
            }
        }
        forceDirectory(target.getParent());
    }

    /** Makes the rename itself durable; some platforms cannot open a directory, and then the OS decides. */
    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported here (e.g. Windows); the rename is still atomic, only its durability is the OS's
        }
    }

    private void removeStaleStaging() throws IOException {
        Instant cutoff = Instant.now().minus(STALE_STAGING);
        try (var staged = Files.newDirectoryStream(staging)) {
            for (Path file : staged) {
                try {
                    if (Files.getLastModifiedTime(file).toInstant().isBefore(cutoff)) {
                        Files.deleteIfExists(file);
                    }
                } catch (NoSuchFileException e) {
                    // another process cleaned it first
                }
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }

    /** At most {@code remaining} bytes of the underlying stream. */
    private static final class RangeInputStream extends InputStream {
        private final InputStream in;
        private long remaining;

        RangeInputStream(InputStream in, long remaining) {
            this.in = in;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (remaining <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
