package io.emend.editor.statistics;

import io.emend.core.edit.Progress;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.editor.EditorApi;
import io.emend.editor.EditorConfig;
import io.emend.editor.database.Database;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Key statistics are computed once per base and reused: by digest of the base's weights (so another model with the
 * same weights shares them), from the local file, and from the registry's blob store when the local file is gone.
 */
@QuarkusTest
class KeyStatisticsStoreTest {

    @Inject
    KeyStatisticsStore store;
    @Inject
    RegistryClient registry;
    @Inject
    InputCache cache;
    @Inject
    Database db;
    @Inject
    EditorConfig config;

    @Test
    void statisticsAreReusedLocallyAndFromTheRegistryByTheBasesWeightDigest() throws IOException {
        String first = EditorApi.importStories();
        String second = EditorApi.importStories();
        String firstEdit = EditorApi.edit(first, "rome");
        String sha = EditorApi.JOBS.registryGet("/v1/models/" + first + "/versions/2").extract()
                .path("recipe.keyStatistics.sha256");
        assertTrue(firstEdit.endsWith(":2"), firstEdit);

        // another model with the same weights: same statistics, nothing computed
        ResolvedVersion base = registry.resolve(second + ":1");
        Path dir = cache.materialize(base, Files.createTempDirectory("base").resolve("stories"));
        try (Transformer model = Transformer.open(dir, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(dir)) {
            KeyStatisticsStore.Obtained local = store.obtain(base, model, tokenizer, Progress.NONE);
            assertFalse(local.computed());
            assertEquals(sha, local.sha256());

            // the local copy lost: fetched by digest from the registry, which holds it since the first edit's upload
            Files.delete(config.storage().cacheDir().toAbsolutePath().resolve("key-statistics").resolve(sha));
            KeyStatisticsStore.Obtained fetched = store.obtain(base, model, tokenizer, Progress.NONE);
            assertFalse(fetched.computed());
            assertEquals(sha, InputCache.sha256(fetched.file()));
            assertEquals(local.statistics().tokens(), fetched.statistics().tokens());
        }
        List<Integer> rows = db.query("SELECT count(*) FROM key_statistics WHERE sha256 = ?", r -> r.getInt(1), sha);
        assertEquals(List.of(1), rows, "one row for the one base digest");
    }
}
