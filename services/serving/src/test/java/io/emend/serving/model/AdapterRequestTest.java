package io.emend.serving.model;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.emend.core.delta.LoraDelta;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.serving.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    private static LoraDelta delta(Random random, String module, int in, int out) {
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
}
