package io.emend.registry.artifact;

import io.emend.contracts.store.DigestMismatchException;
import io.emend.contracts.store.ObjectStore;
import io.emend.contracts.store.StoredObject;
import io.emend.registry.problem.RegistryException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Content-addressed blobs in the object store, one object per SHA-256 under {@code blobs/sha256/<hex>}. A blob is
 * written at most once: when it is already there, an upload is only hashed (to answer a wrong digest the same way)
 * and dropped. The object store writes atomically and checks the digest before the object becomes visible, so a blob
 * that exists is complete and verified.
 */
@ApplicationScoped
public class BlobStore {

    private static final int CHUNK = 64 * 1024;

    private final ObjectStore store;

    BlobStore(ObjectStore store) {
        this.store = store;
    }

    /** Whether the blob is stored with the expected size. */
    public boolean holds(String sha256, long size) {
        return stat(sha256).map(object -> object.size() == size).orElse(false);
    }

    public Optional<StoredObject> stat(String sha256) {
        try {
            return store.stat(ManifestEntry.blobKey(sha256));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the object store", e);
        }
    }

    /**
     * Streams {@code body} into the blob {@code sha256}. The body must be exactly {@code size} bytes hashing to
     * {@code sha256}; more bytes fail with 413 as soon as they arrive, fewer or different ones with 422, and in both
     * cases nothing is kept.
     */
    public void store(String sha256, long size, InputStream body) {
        SizeLimited limited = new SizeLimited(body, size);
        try {
            if (holds(sha256, size)) {
                String actual = hash(limited);
                if (!actual.equals(sha256)) {
                    throw new DigestMismatchException(ManifestEntry.blobKey(sha256), sha256, actual);
                }
            } else {
                store.put(ManifestEntry.blobKey(sha256), limited, Optional.of(sha256));
            }
        } catch (DigestMismatchException e) {
            String detail = limited.count() != size
                    ? "body has " + limited.count() + " bytes, the manifest says " + size
                    : "body hashes to " + e.actual() + ", expected " + sha256;
            throw new RegistryException.Unprocessable("digest-mismatch", detail + "; nothing was stored");
        } catch (BodyTooLarge e) {
            throw new RegistryException.TooLarge("artifact-too-large", "body is larger than the " + size
                    + " bytes the manifest declares; nothing was stored");
        } catch (IOException e) {
            if (e.getCause() instanceof BodyTooLarge) {
                throw new RegistryException.TooLarge("artifact-too-large", "body is larger than the " + size
                        + " bytes the manifest declares; nothing was stored");
            }
            throw new UncheckedIOException("upload of blob " + sha256 + " failed", e);
        }
    }

    /** {@code length} bytes from {@code offset}; the caller closes the stream. */
    public InputStream open(String sha256, long offset, long length) {
        try {
            return store.get(ManifestEntry.blobKey(sha256), offset, length);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + sha256, e);
        }
    }

    private static String hash(InputStream in) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[CHUNK];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Thrown by {@link SizeLimited} once a body runs past its declared size. */
    static final class BodyTooLarge extends IOException {
        BodyTooLarge() {
            super("body larger than declared");
        }
    }

    /** Counts what passes and refuses to pass more than the declared size (plus nothing). */
    static final class SizeLimited extends FilterInputStream {
        private final long limit;
        private long count;

        SizeLimited(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        long count() {
            return count;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                advance(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                advance(n);
            }
            return n;
        }

        private void advance(int n) throws BodyTooLarge {
            count += n;
            if (count > limit) {
                throw new BodyTooLarge();
            }
        }
    }
}
