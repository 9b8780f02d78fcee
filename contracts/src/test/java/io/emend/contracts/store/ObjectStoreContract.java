package io.emend.contracts.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link ObjectStore} guarantees. A subclass opens an empty store of its kind; each test gets a fresh one.
 * The test JVM runs with a small heap (see this module's pom) so that {@link #largeUploadsAreStreamed()} proves an
 * upload is never held in memory.
 */
abstract class ObjectStoreContract {

    protected ObjectStore store;

    /** A new, empty store; closed after each test. */
    protected abstract ObjectStore openEmptyStore() throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        store = openEmptyStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void roundTripReportsSizeAndDigest() throws IOException {
        byte[] bytes = randomBytes(10_000, 1);
        StoredObject put = store.put("models/demo/config.json", new ByteArrayInputStream(bytes), Optional.empty());

        assertEquals("models/demo/config.json", put.key());
        assertEquals(bytes.length, put.size());
        assertEquals(Optional.of(sha256(bytes)), put.sha256());
        assertArrayEquals(bytes, readAll(store.get("models/demo/config.json")));
        StoredObject stat = store.stat("models/demo/config.json").orElseThrow();
        assertEquals(bytes.length, stat.size());
        assertEquals("models/demo/config.json", stat.key());
    }

    @Test
    void emptyObjectsAreObjects() throws IOException {
        StoredObject put = store.put("empty", InputStream.nullInputStream(), Optional.of(sha256(new byte[0])));
        assertEquals(0, put.size());
        assertArrayEquals(new byte[0], readAll(store.get("empty")));
        assertArrayEquals(new byte[0], readAll(store.get("empty", 0, 10)));
        assertEquals(List.of("empty"), keys(store.list("")));
    }

    @Test
    void expectedDigestIsAcceptedInEitherCase() throws IOException {
        byte[] bytes = "weights".getBytes(StandardCharsets.UTF_8);
        String digest = sha256(bytes);
        String key = ObjectKeys.blob(digest);
        StoredObject put = store.put(key, new ByteArrayInputStream(bytes), Optional.of(digest.toUpperCase()));
        assertEquals(Optional.of(digest), put.sha256());
        assertEquals("blobs/sha256/" + digest, put.key());
        assertArrayEquals(bytes, readAll(store.get(key)));
    }

    @Test
    void digestMismatchKeepsNothing() throws IOException {
        byte[] bytes = randomBytes(200_000, 2);
        String wrong = sha256("something else".getBytes(StandardCharsets.UTF_8));

        DigestMismatchException e = assertThrows(DigestMismatchException.class,
                () -> store.put("a/b", new ByteArrayInputStream(bytes), Optional.of(wrong)));

        assertEquals(wrong, e.expected());
        assertEquals(sha256(bytes), e.actual());
        assertTrue(store.stat("a/b").isEmpty());
        assertThrows(ObjectNotFoundException.class, () -> store.get("a/b"));
        assertEquals(List.of(), store.list(""), "no object and no upload leftovers are visible");
    }

    @Test
    void digestMismatchLeavesThePreviousVersion() throws IOException {
        byte[] first = randomBytes(1000, 3);
        store.put("k", new ByteArrayInputStream(first), Optional.empty());
        assertThrows(DigestMismatchException.class, () -> store.put("k",
                new ByteArrayInputStream(randomBytes(1000, 4)), Optional.of(sha256(first))));
        assertArrayEquals(first, readAll(store.get("k")));
        assertEquals(List.of("k"), keys(store.list("")));
    }

    @Test
    void aFailingUploadKeepsNothing() throws IOException {
        // Fails on every read once 100,000 bytes went out (InputStream's bulk read swallows an exception after the
        // first byte, so a one-shot failure could be skipped over).
        InputStream breaksHalfWay = new InputStream() {
            private int sent;

            @Override
            public int read() throws IOException {
                if (sent >= 100_000) {
                    throw new IOException("client went away");
                }
                return sent++ & 0xff;
            }
        };
        IOException e = assertThrows(IOException.class, () -> store.put("half", breaksHalfWay, Optional.empty()));
        assertTrue(e.getMessage().contains("client went away") || hasCause(e, "client went away"), e.toString());
        assertTrue(store.stat("half").isEmpty());
        assertEquals(List.of(), store.list(""));
    }

    @Test
    void rangedReads() throws IOException {
        byte[] bytes = randomBytes(1000, 5);
        store.put("r", new ByteArrayInputStream(bytes), Optional.empty());

        assertArrayEquals(slice(bytes, 0, 10), readAll(store.get("r", 0, 10)), "start");
        assertArrayEquals(slice(bytes, 500, 100), readAll(store.get("r", 500, 100)), "middle");
        assertArrayEquals(slice(bytes, 950, 50), readAll(store.get("r", 950, 100)), "clamped to the end");
        assertArrayEquals(slice(bytes, 999, 1), readAll(store.get("r", 999, 1)), "last byte");
        assertArrayEquals(bytes, readAll(store.get("r", 0, Long.MAX_VALUE)), "everything");
        assertArrayEquals(new byte[0], readAll(store.get("r", 1000, 10)), "at the end");
        assertArrayEquals(new byte[0], readAll(store.get("r", 5000, 10)), "past the end");
        assertArrayEquals(new byte[0], readAll(store.get("r", 10, 0)), "zero length");
        assertThrows(IllegalArgumentException.class, () -> store.get("r", -1, 10));
        assertThrows(IllegalArgumentException.class, () -> store.get("r", 0, -1));
        assertThrows(ObjectNotFoundException.class, () -> store.get("absent", 0, 10));
    }

    @Test
    void listsByPrefixInKeyOrder() throws IOException {
        List<String> scrambled = List.of("b/2", "a/sub/x", "a/10", "ab", "a/2", "a/1", "c", "a/1x/deeper");
        for (String key : scrambled) {
            store.put(key, new ByteArrayInputStream(key.getBytes(StandardCharsets.UTF_8)), Optional.empty());
        }
        List<String> all = List.of("a/1", "a/10", "a/1x/deeper", "a/2", "a/sub/x", "ab", "b/2", "c");

        assertEquals(all, keys(store.list("")));
        assertEquals(all.stream().filter(k -> k.startsWith("a/")).toList(), keys(store.list("a/")));
        assertEquals(all.stream().filter(k -> k.startsWith("a")).toList(), keys(store.list("a")));
        assertEquals(all.stream().filter(k -> k.startsWith("a/1")).toList(), keys(store.list("a/1")));
        assertEquals(List.of("a/sub/x"), keys(store.list("a/s")));
        assertEquals(List.of(), store.list("zzz/"));
        assertEquals(List.of(), store.list("a/sub/x/"));
        StoredObject ab = store.list("ab").getFirst();
        assertEquals(2, ab.size());
    }

    @Test
    void listsPastOnePage() throws IOException {
        // More keys than one S3 ListObjectsV2 page at the page size S3 stores use in tests.
        for (int i = 0; i < 25; i++) {
            store.put("many/%03d".formatted(i), new ByteArrayInputStream(new byte[] {(byte) i}), Optional.empty());
        }
        List<String> listed = keys(store.list("many/"));
        assertEquals(25, listed.size());
        assertEquals("many/000", listed.getFirst());
        assertEquals("many/024", listed.getLast());
    }

    @Test
    void putReplacesAnExistingObject() throws IOException {
        store.put("k", new ByteArrayInputStream(randomBytes(5000, 6)), Optional.empty());
        byte[] second = randomBytes(300, 7);
        StoredObject put = store.put("k", new ByteArrayInputStream(second), Optional.of(sha256(second)));
        assertEquals(300, put.size());
        assertArrayEquals(second, readAll(store.get("k")));
        assertEquals(300, store.stat("k").orElseThrow().size());
        assertEquals(List.of("k"), keys(store.list("")));
    }

    @Test
    void deleteRemovesAndToleratesAbsentKeys() throws IOException {
        store.put("d/x", new ByteArrayInputStream(new byte[] {1}), Optional.empty());
        store.put("d/y", new ByteArrayInputStream(new byte[] {2}), Optional.empty());
        store.delete("d/x");
        store.delete("d/x");
        store.delete("never/stored");
        assertTrue(store.stat("d/x").isEmpty());
        assertThrows(ObjectNotFoundException.class, () -> store.get("d/x"));
        assertEquals(List.of("d/y"), keys(store.list("")));
    }

    @Test
    void absentObjects() throws IOException {
        assertTrue(store.stat("nothing/here").isEmpty());
        ObjectNotFoundException e = assertThrows(ObjectNotFoundException.class, () -> store.get("nothing/here"));
        assertEquals("nothing/here", e.key());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/abs", "a/../b", "..", "../x", "a/..", "a//b", "a/", "a\\b", "./a", "a/./b",
            "tab\there"})
    void invalidKeysAreRejected(String key) {
        byte[] one = {1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.put(key, new ByteArrayInputStream(one), Optional.empty()));
        assertTrue(e.getMessage().startsWith("invalid object key"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.get(key));
        assertThrows(IllegalArgumentException.class, () -> store.get(key, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> store.stat(key));
        assertThrows(IllegalArgumentException.class, () -> store.delete(key));
    }

    @Test
    void overlongKeysAreRejected() {
        String key = "k/" + "x".repeat(ObjectKeys.MAX_KEY_BYTES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.put(key, InputStream.nullInputStream(), Optional.empty()));
        assertTrue(e.getMessage().contains("longer than 1024 bytes"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a", "../", "a/../", "a//", "a\\"})
    void invalidPrefixesAreRejected(String prefix) {
        assertThrows(IllegalArgumentException.class, () -> store.list(prefix));
    }

    @Test
    void malformedExpectedDigestIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.put("k", new ByteArrayInputStream(new byte[] {1}), Optional.of("abc")));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void largeUploadsAreStreamed() throws IOException {
        // Twice the heap (capped at 96 MiB by this module's pom), and not a multiple of any buffer or part size: a
        // store that held the upload in memory would fail with OutOfMemoryError.
        long heap = Runtime.getRuntime().maxMemory();
        assertTrue(heap <= 128L * 1024 * 1024, "run this test in a small heap (the pom sets -Xmx96m), heap is "
                + heap);
        long size = 2 * heap + 4099;
        String digest = sha256(new PatternStream(size));

        StoredObject put = store.put("large/blob", new PatternStream(size), Optional.of(digest));

        assertEquals(size, put.size());
        assertEquals(size, store.stat("large/blob").orElseThrow().size());
        try (InputStream in = store.get("large/blob")) {
            assertEquals(digest, sha256(in));
        }
        long tailOffset = size - 100;
        byte[] expectedTail = new byte[100];
        for (int i = 0; i < 100; i++) {
            expectedTail[i] = PatternStream.byteAt(tailOffset + i);
        }
        assertArrayEquals(expectedTail, readAll(store.get("large/blob", tailOffset, 1000)));
    }

    /** Deterministic bytes that depend on their position, so a misplaced part changes the digest. */
    static final class PatternStream extends InputStream {
        private final long size;
        private long position;

        PatternStream(long size) {
            this.size = size;
        }

        static byte byteAt(long position) {
            long x = (position >>> 3) * 0x9E3779B97F4A7C15L;
            x ^= x >>> 29;
            return (byte) (x >>> (8 * (position & 7)));
        }

        @Override
        public int read() {
            return position < size ? byteAt(position++) & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - position);
            for (int i = 0; i < n; i++) {
                b[off + i] = byteAt(position + i);
            }
            position += n;
            return n;
        }
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(FilesystemObjectStore.sha256().digest(bytes));
    }

    static String sha256(InputStream in) throws IOException {
        MessageDigest sha = FilesystemObjectStore.sha256();
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = in.read(buffer)) != -1) {
            sha.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    static List<String> keys(List<StoredObject> objects) {
        return objects.stream().map(StoredObject::key).toList();
    }

    private static byte[] slice(byte[] bytes, int from, int length) {
        byte[] out = new byte[length];
        System.arraycopy(bytes, from, out, 0, length);
        return out;
    }

    private static boolean hasCause(Throwable e, String message) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(message)) {
                return true;
            }
        }
        return false;
    }
}
