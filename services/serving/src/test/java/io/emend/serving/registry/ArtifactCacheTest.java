package io.emend.serving.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.contracts.store.DigestMismatchException;
import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectKeys;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving cache of versions' files, over a real filesystem object store (the one the local stack uses): keyed by
 * content digest, each blob fetched once and verified before anything is visible.
 */
class ArtifactCacheTest {

    @TempDir
    Path tmp;

    FilesystemObjectStore store;
    ArtifactCache cache;

    @BeforeEach
    void open() throws IOException {
        store = FilesystemObjectStore.open(tmp.resolve("store"));
        // the REST path is not used when a store is given; an address nothing listens on proves it
        RegistryClient unused = new RegistryClient(URI.create("http://127.0.0.1:9"), Optional.empty(), Duration.ofSeconds(1));
        cache = new ArtifactCache(tmp.resolve("cache"), unused, Optional.of(store));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private ResolvedVersion.Entry upload(String path, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        String sha = sha256(bytes);
        store.put(ObjectKeys.blob(sha), new ByteArrayInputStream(bytes), Optional.of(sha));
        return new ResolvedVersion.Entry(path, sha, bytes.length, "application/octet-stream");
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private long count(String dir) throws IOException {
        try (Stream<Path> files = Files.list(tmp.resolve("cache").resolve(dir))) {
            return files.count();
        }
    }

    @Test
    void versionsAreKeyedByContentAndShareBlobs() throws IOException {
        var config = upload("config.json", "{\"model_type\": \"llama\"}");
        var weightsA = upload("model.safetensors", "weights of version A");
        var weightsB = upload("model.safetensors", "weights of version B");

        Path a = cache.materialize(List.of(config, weightsA));
        assertEquals("weights of version A", Files.readString(a.resolve("model.safetensors")));
        assertEquals(ArtifactCache.digest(List.of(config, weightsA)), a.getFileName().toString());
        // the manifest's order does not matter; the same content is the same directory
        assertEquals(a, cache.materialize(List.of(weightsA, config)));
        assertEquals(ArtifactCache.digest(List.of(config, weightsA)), ArtifactCache.digest(List.of(weightsA, config)));

        Path b = cache.materialize(List.of(config, weightsB));
        assertNotEquals(a, b);
        assertEquals("weights of version B", Files.readString(b.resolve("model.safetensors")));
        assertEquals(3, count("blobs"), "the shared config.json is kept once");
        assertEquals(2, count("versions"));

        // once materialized, a version is served from the cache: the store no longer needs to hold it
        store.delete(ObjectKeys.blob(weightsA.sha256()));
        assertEquals(a, cache.materialize(List.of(config, weightsA)));
        assertEquals("weights of version A", Files.readString(a.resolve("model.safetensors")));
    }

    @Test
    void aBlobThatIsNotWhatTheManifestSaysIsRejectedAndNothingIsKept() throws IOException {
        var config = upload("config.json", "{}");
        // a blob key holding other bytes (a corrupt or tampered object), stored without a digest check
        String claimed = sha256("the real weights".getBytes(StandardCharsets.UTF_8));
        store.put(ObjectKeys.blob(claimed), new ByteArrayInputStream("tampered".getBytes(StandardCharsets.UTF_8)),
                Optional.empty());
        var tampered = new ResolvedVersion.Entry("model.safetensors", claimed, 16, "application/octet-stream");
        var e = assertThrows(DigestMismatchException.class, () -> cache.materialize(List.of(config, tampered)));
        assertTrue(e.getMessage().contains(claimed), e.getMessage());

        // right bytes, wrong size in the manifest: also rejected
        var wrongSize = upload("tokenizer.json", "tokens");
        var lying = new ResolvedVersion.Entry("tokenizer.json", wrongSize.sha256(), 999, "application/json");
        assertThrows(DigestMismatchException.class, () -> cache.materialize(List.of(lying)));

        assertEquals(1, count("blobs"), "only the verified config.json");
        assertEquals(0, count("versions"));
        assertEquals(0, count("tmp"), "no staging left behind");
    }

    @Test
    void manifestPathsCannotLeaveTheVersionDirectory() throws IOException {
        var evil = upload("../../outside.txt", "x");
        assertThrows(IllegalArgumentException.class, () -> cache.materialize(List.of(evil)));
        assertFalse(Files.exists(tmp.resolve("outside.txt")));
        assertFalse(Files.exists(tmp.resolve("cache").resolve("outside.txt")));
        assertEquals(0, count("versions"));
        assertEquals(0, count("tmp"));
    }
}
