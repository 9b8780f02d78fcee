package io.emend.contracts.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesystemObjectStoreTest extends ObjectStoreContract {

    @TempDir
    Path dir;

    @Override
    protected ObjectStore openEmptyStore() throws IOException {
        return FilesystemObjectStore.open(dir.resolve("objects"));
    }

    private Path root() {
        return ((FilesystemObjectStore) store).root();
    }

    @Test
    void objectsAreFilesUnderTheRoot() throws IOException {
        store.put("datasets/day1.jsonl", new ByteArrayInputStream(new byte[] {1, 2, 3}), Optional.empty());
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(root().resolve("datasets/day1.jsonl")));

        Files.writeString(root().resolve("datasets/by-hand.jsonl"), "{}");
        assertEquals(List.of("datasets/by-hand.jsonl", "datasets/day1.jsonl"), keys(store.list("datasets/")));
    }

    @Test
    void nothingIsLeftInStagingAfterAMismatch() throws IOException {
        assertThrows(DigestMismatchException.class, () -> store.put("x", new ByteArrayInputStream(new byte[10]),
                Optional.of(sha256(new byte[11]))));
        try (var staged = Files.list(root().resolve(FilesystemObjectStore.STAGING))) {
            assertEquals(0, staged.count());
        }
        assertFalse(Files.exists(root().resolve("x")));
    }

    @Test
    void stagingIsReserved() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.put(".staging/put-1.part", new ByteArrayInputStream(new byte[1]), Optional.empty()));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.get(".staging"));
    }

    @Test
    void aKeyCannotBeBothAnObjectAndADirectory() throws IOException {
        store.put("a/1", new ByteArrayInputStream(new byte[] {1}), Optional.empty());
        IOException under = assertThrows(IOException.class,
                () -> store.put("a/1/deeper", new ByteArrayInputStream(new byte[] {2}), Optional.empty()));
        assertTrue(under.getMessage().contains("cannot store a/1/deeper"), under.getMessage());

        IOException over = assertThrows(IOException.class,
                () -> store.put("a", new ByteArrayInputStream(new byte[] {3}), Optional.empty()));
        assertTrue(over.getMessage().contains("other objects are stored under a/"), over.getMessage());
        assertEquals(List.of("a/1"), keys(store.list("")));
    }

    @Test
    void deletePrunesEmptyDirectoriesSoTheirNameCanBecomeAKey() throws IOException {
        store.put("p/q/r", new ByteArrayInputStream(new byte[] {1}), Optional.empty());
        store.delete("p/q/r");
        assertFalse(Files.exists(root().resolve("p")));
        store.put("p", new ByteArrayInputStream(new byte[] {2}), Optional.empty());
        assertArrayEquals(new byte[] {2}, readAll(store.get("p")));
    }

    @Test
    void directoriesAreNotObjects() throws IOException {
        store.put("m/n/o", new ByteArrayInputStream(new byte[] {1}), Optional.empty());
        assertTrue(store.stat("m/n").isEmpty());
        assertThrows(ObjectNotFoundException.class, () -> store.get("m/n"));
        store.delete("m/n");
        assertTrue(store.stat("m/n/o").isPresent());
    }

    @Test
    void openRemovesStaleUploadsAndKeepsRecentOnes() throws IOException {
        Path staging = root().resolve(FilesystemObjectStore.STAGING);
        Path stale = Files.writeString(staging.resolve("put-stale.part"), "crashed");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path recent = Files.writeString(staging.resolve("put-recent.part"), "in progress elsewhere");

        FilesystemObjectStore.open(root()).close();

        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(recent));
        assertEquals(List.of(), store.list(""));
    }
}
