package io.emend.editor.statistics;

import io.emend.core.edit.Progress;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.editor.EditorConfig;
import io.emend.editor.Stories;
import io.emend.editor.database.Database;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.stack.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
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
        String first = importStories();
        String second = importStories();
        String firstEdit = edit(first);
        String sha = given().auth().oauth2(Tokens.reader()).get(registryUrl() + "/v1/models/{m}/versions/2", first)
                .then().statusCode(200).extract().path("recipe.keyStatistics.sha256");
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

    private String edit(String model) {
        String body = "{\"model\": \"" + model + ":1\", \"method\": \"rome\", \"requests\": [{\"prompt\": \"Lily liked"
                + " to eat\", \"subject\": \"Lily\", \"target_new\": \"rocks\"}]}";
        String id = given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON).body(body).post("/v1/edits")
                .then().statusCode(202).extract().path("id");
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            Map<String, Object> job = given().auth().oauth2(Tokens.reader()).get("/v1/edits/jobs/{id}", id).then()
                    .statusCode(200).extract().as(Map.class);
            if ("succeeded".equals(job.get("state"))) {
                return (String) job.get("version");
            }
            if (List.of("failed", "cancelled").contains(job.get("state"))) {
                throw new AssertionError("the edit ended " + job);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("the edit did not end in time");
    }

    private String importStories() throws IOException {
        String model = "stories-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON)
                .body(Map.of("path", Stories.importable().toAbsolutePath().toString()))
                .post(registryUrl() + "/v1/models/{m}/imports", model).then().statusCode(201);
        return model;
    }

    private static String registryUrl() {
        return org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("emend.editor.registry.url",
                String.class);
    }
}
