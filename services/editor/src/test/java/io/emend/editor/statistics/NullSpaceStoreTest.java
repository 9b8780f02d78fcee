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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AlphaEdit's null-space projectors are computed once per statistics, energy share and layers: an AlphaEdit job
 * stores and lists them, a later request reuses the local file, then the registry's blob once the local file is gone;
 * another energy share is another file.
 */
@QuarkusTest
class NullSpaceStoreTest {

    @Inject
    NullSpaceStore store;
    @Inject
    KeyStatisticsStore statistics;
    @Inject
    RegistryClient registry;
    @Inject
    InputCache cache;
    @Inject
    Database db;
    @Inject
    EditorConfig config;

    @Test
    void projectorsAreReusedLocallyAndFromTheRegistry() throws IOException {
        String model = EditorApi.importStories();
        EditorApi.edit(model, "alphaedit");
        Map<String, Object> recipe = EditorApi.JOBS.registryGet("/v1/models/" + model + "/versions/2").extract()
                .path("recipe.nullSpace");
        String sha = (String) recipe.get("sha256");
        @SuppressWarnings("unchecked")
        List<Integer> layers = (List<Integer>) recipe.get("layers");
        // RestAssured reads JSON decimals as float; its shortest decimal is the double the job used
        double energy = Double.parseDouble(String.valueOf(recipe.get("energy")));

        ResolvedVersion base = registry.resolve(model + ":1");
        Path dir = cache.materialize(base, Files.createTempDirectory("base").resolve("stories"));
        try (Transformer m = Transformer.open(dir, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(dir)) {
            KeyStatisticsStore.Obtained stats = statistics.obtain(base, m, tokenizer, Progress.NONE);
            NullSpaceStore.Obtained local = store.obtain(stats.sha256(), stats.statistics(), energy, layers,
                    Progress.NONE);
            assertFalse(local.computed(), "the job's projectors are reused");
            assertEquals(sha, local.sha256());

            Files.delete(config.storage().cacheDir().toAbsolutePath().resolve("null-space").resolve(sha));
            NullSpaceStore.Obtained fetched = store.obtain(stats.sha256(), stats.statistics(), energy, layers,
                    Progress.NONE);
            assertFalse(fetched.computed(), "fetched from the registry, which holds the job's upload");
            assertEquals(sha, InputCache.sha256(fetched.file()));
            for (int layer : layers) {
                assertArrayEquals(local.projectors().layers().get(layer).values(),
                        fetched.projectors().layers().get(layer).values(), 0);
            }

            // a wider null space is another file, computed once
            NullSpaceStore.Obtained wider = store.obtain(stats.sha256(), stats.statistics(), energy * 2, layers,
                    Progress.NONE);
            assertTrue(wider.computed());
            assertNotEquals(sha, wider.sha256());
            assertFalse(store.obtain(stats.sha256(), stats.statistics(), energy * 2, layers, Progress.NONE)
                    .computed());
            int rank = (int) Math.round(local.projectors().layers().get(layers.getFirst()).meanDiagonal()
                    * stats.statistics().keyDim());
            int widerRank = (int) Math.round(wider.projectors().layers().get(layers.getFirst()).meanDiagonal()
                    * stats.statistics().keyDim());
            assertTrue(widerRank > rank, "twice the energy share, a larger null space: " + rank + " -> " + widerRank);
        }
        assertEquals(List.of(1), db.query("SELECT count(*) FROM null_space WHERE sha256 = ?", r -> r.getInt(1), sha));
    }
}
