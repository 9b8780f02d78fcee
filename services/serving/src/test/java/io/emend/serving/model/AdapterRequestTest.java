package io.emend.serving.model;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.emend.core.delta.EditDelta;
import io.emend.core.delta.LoraDelta;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.serving.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-request LoRA adapters over the base: {@code model+adapter} and the {@code emend.adapter} field give the
 * engine's own greedy text with that adapter, also while base requests share the batch.
 */
@QuarkusTest
class AdapterRequestTest {

    /** Where the test profile's {@code emend.serving.standalone.adapters.tiny} points (relative to the module). */
    static final Path ADAPTER = Path.of("target", "test-adapters", "tiny");
    static final String PROMPT = "Lily and Tom went to the";
    static final int TOKENS = 40;

    static LoraAdapter lora;

    @BeforeAll
    static void writeAdapter() throws Exception {
        // rank-4 factors on every layer's q and down projections, large enough to change the greedy text
        Random random = new Random(11);
        List<LoraDelta> deltas = new ArrayList<>();
        for (int layer = 0; layer < 5; layer++) {
            deltas.add(delta(random, "model.layers." + layer + ".self_attn.q_proj", 64, 64));
            deltas.add(delta(random, "model.layers." + layer + ".mlp.down_proj", 172, 64));
        }
        var raw = JsonNodeFactory.instance.objectNode();
        raw.put("peft_type", "LORA").put("r", 4).put("lora_alpha", 8.0);
        raw.putArray("target_modules").add("q_proj").add("down_proj");
        lora = new LoraAdapter(new PeftAdapterConfig(4, 8.0, List.of("q_proj", "down_proj"), false, Optional.empty(), raw),
                deltas);
        lora.write(ADAPTER);
    }

    /** Rank-4 factors with N(0, 0.3²) entries and scale 2 (alpha 8): large enough to change the greedy text. */
    static LoraDelta delta(Random random, String module, int in, int out) {
        float[] a = new float[4 * in];
        float[] b = new float[out * 4];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian() * 0.3f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian() * 0.3f;
        }
        return new LoraDelta(module, 4, in, out, a, b, 2.0);
    }

    @io.quarkus.test.common.http.TestHTTPResource("/v1/completions")
    java.net.URI completions;

    private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

    /** Plain JDK HTTP, since the requests run on pool threads outside the test's class loader. */
    private CompletableFuture<String> complete(String body) {
        return http.sendAsync(java.net.http.HttpRequest.newBuilder(completions).header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
                    if (r.statusCode() != 200) {
                        throw new AssertionError(r.statusCode() + " " + r.body());
                    }
                    try {
                        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body())
                                .path("choices").path(0).path("text").asText();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
    }

    @Test
    void adaptersApplyPerRequestInASharedBatch() throws Exception {
        int[] prompt = Fixtures.encode(Fixtures.stories(), PROMPT);
        String base = Fixtures.greedy(Fixtures.stories(), prompt, TOKENS, null);
        String adapted = Fixtures.greedy(Fixtures.stories(), prompt, TOKENS, AdapterCatalog.toEngine("tiny", lora));
        assertNotEquals(base, adapted);
        String request = "{\"prompt\":\"" + PROMPT + "\",\"max_tokens\":" + TOKENS + ",\"temperature\":0,";
        List<CompletableFuture<String>> baseAnswers = new ArrayList<>();
        List<CompletableFuture<String>> adaptedAnswers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            baseAnswers.add(complete(request + "\"model\":\"stories260k\"}"));
            adaptedAnswers.add(complete(request + "\"model\":\"stories260k+tiny\"}"));
        }
        adaptedAnswers.add(complete(request + "\"model\":\"stories260k\",\"emend\":{\"adapter\":\"tiny\"}}"));
        for (var f : baseAnswers) {
            assertEquals(base, f.get());
        }
        for (var f : adaptedAnswers) {
            assertEquals(adapted, f.get());
        }
        given().contentType(ContentType.JSON).body(request + "\"model\":\"stories260k+tiny\",\"emend\":{\"adapter\":\"other\"}}")
                .post("/v1/completions").then().statusCode(400);
    }

    @jakarta.inject.Inject
    AdapterCatalog adapters;

    @Test
    void anIdleAdapterIsUnloadedAndLoadsAgainOnItsNextRequest() throws Exception {
        String request = "{\"prompt\":\"" + PROMPT + "\",\"max_tokens\":4,\"temperature\":0,\"model\":\"stories260k+tiny\"}";
        String first = complete(request).get();
        assertTrue(adapters.loaded().containsKey("tiny"));
        // as the sweeper sees it one idle period after the last request (10 minutes by default)
        long idle = io.smallrye.config.SmallRyeConfigProviderResolver.instance().getConfig()
                .getValue("emend.serving.deltas.idle-unload", java.time.Duration.class).toNanos();
        adapters.unloadIdle(System.nanoTime() + idle / 2);
        assertTrue(adapters.loaded().containsKey("tiny"), "used less than the idle time ago: kept");
        adapters.unloadIdle(System.nanoTime() + idle + 1);
        assertFalse(adapters.loaded().containsKey("tiny"), "unused for the idle time: unloaded");
        assertEquals(first, complete(request).get());
        assertTrue(adapters.loaded().containsKey("tiny"), "loaded again by the next request");
    }

    /**
     * A standalone delta directory holding edit factors (what {@code ./emend edit --out} writes beside the edited
     * model) is served as the engine's low-rank delta; factors that do not fit the model, or a file that is not an
     * edit delta, are 400s naming the model parameter.
     */
    @Test
    void editFactorDirectoriesServeAndBadOnesAre400() throws Exception {
        Random random = new Random(17);
        float[] u = new float[64 * 2];
        float[] v = new float[172 * 2];
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian() * 0.3f;
        }
        EditDelta edit = new EditDelta("memit", 2, Map.of("model.layers.2.mlp.down_proj.weight",
                new EditDelta.Factors(64, 172, 2, u, v)));
        Path dir = ADAPTER.resolveSibling("edit");
        java.nio.file.Files.createDirectories(dir);
        edit.write(dir.resolve(EditDelta.FILE_NAME));
        Path misfit = ADAPTER.resolveSibling("edit-misfit");
        java.nio.file.Files.createDirectories(misfit);
        new EditDelta("memit", 1, Map.of("model.layers.2.mlp.down_proj.weight",
                new EditDelta.Factors(64, 100, 1, new float[64], new float[100]))).write(misfit.resolve(EditDelta.FILE_NAME));
        Path broken = ADAPTER.resolveSibling("edit-broken");
        java.nio.file.Files.createDirectories(broken);
        java.nio.file.Files.writeString(broken.resolve(EditDelta.FILE_NAME), "not safetensors");

        int[] prompt = Fixtures.encode(Fixtures.stories(), PROMPT);
        String base = Fixtures.greedy(Fixtures.stories(), prompt, TOKENS, null);
        String edited = Fixtures.greedy(Fixtures.stories(), prompt, TOKENS,
                io.emend.core.edit.ServedDelta.adapter("edit", edit));
        assertNotEquals(base, edited);
        String request = "{\"prompt\":\"" + PROMPT + "\",\"max_tokens\":" + TOKENS + ",\"temperature\":0,";
        assertEquals(edited, complete(request + "\"model\":\"stories260k+edit\"}").get());
        given().contentType(ContentType.JSON).body(request + "\"model\":\"stories260k+edit-misfit\"}")
                .post("/v1/completions").then().statusCode(400)
                .body("error.param", org.hamcrest.Matchers.equalTo("model"))
                .body("error.message", org.hamcrest.Matchers.containsString("does not fit"));
        given().contentType(ContentType.JSON).body(request + "\"model\":\"stories260k+edit-broken\"}")
                .post("/v1/completions").then().statusCode(400)
                .body("error.param", org.hamcrest.Matchers.equalTo("model"))
                .body("error.message", org.hamcrest.Matchers.containsString("cannot be served"));
    }
}
