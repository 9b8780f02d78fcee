package io.emend.serving.registry;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.serving.model.AdapterCatalog;
import io.emend.serving.swap.AliasMovedConsumer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Edit versions named as per-request deltas ({@code stories:1+stories:4}, or the {@code emend.adapter} field) are
 * served as the quantized base plus the edit's factors, which the editor's core code (MEMIT) made: the answers equal
 * the edit version's materialized weights served as a model, requests with and without deltas share a batch, a delta
 * named by an alias follows the alias, and an edit version over another base is refused.
 */
@QuarkusTest
@TestProfile(RegistryMode.class)
class EditDeltaRequestTest {

    static final String PROMPT = "Lily liked to eat";
    static final int TOKENS = 24;

    @Inject
    AdapterCatalog deltas;

    @Inject
    AliasMovedConsumer consumer;

    private static JsonPath complete(String body) {
        return given().contentType("application/json").body(body).post("/v1/completions").then().statusCode(200)
                .extract().jsonPath();
    }

    private static JsonPath greedy(String model) {
        return complete("{\"model\":\"" + model + "\",\"prompt\":\"" + PROMPT + "\",\"max_tokens\":" + TOKENS
                + ",\"temperature\":0,\"logprobs\":1}");
    }

    private static List<Float> logprobs(JsonPath completion) {
        return completion.getList("choices[0].logprobs.token_logprobs", Float.class);
    }

    /**
     * The greedy log-probabilities of two answers agree token by token. The test profile serves F32: a delta gives
     * x·W + U(Vᵀx) where the materialized weights give x·(W + U Vᵀ), and a batch of several sequences sums the same
     * products in another order than one alone; both are ~1e-6 apart on log-probabilities of size ~1-10, and 1e-4 is
     * the design's engine agreement bound.
     */
    private static void assertSameAnswer(JsonPath expected, JsonPath actual, String what) {
        assertEquals(expected.getString("choices[0].text"), actual.getString("choices[0].text"), what);
        List<Float> e = logprobs(expected);
        List<Float> a = logprobs(actual);
        assertEquals(e.size(), a.size(), what);
        for (int i = 0; i < e.size(); i++) {
            assertEquals(e.get(i), a.get(i), 1e-4 * (1 + Math.abs(e.get(i))), what + ", token " + i);
        }
    }

    /** The largest change in a greedy token's log-probability between two answers of the same text. */
    private static double moved(JsonPath a, JsonPath b) {
        double max = 0;
        for (int i = 0; i < logprobs(a).size(); i++) {
            max = Math.max(max, Math.abs(logprobs(a).get(i) - logprobs(b).get(i)));
        }
        return max;
    }

    @Test
    void editVersionAsDeltaAnswersAsItsMaterializedWeights() {
        JsonPath delta = greedy("stories:1+stories:4");
        JsonPath materialized = greedy("stories:4");
        JsonPath plain = greedy("stories:1");
        String text = delta.getString("choices[0].text");
        assertSameAnswer(materialized, delta, "the delta against the materialized edit version");
        // MEMIT on stories260k (which knows little) does not make "rocks" the greedy answer, but it changes the
        // continuation: that tells the delta was applied
        assertNotEquals(plain.getString("choices[0].text"), text);
        // the per-request delta answers from the base's bytes plus factors: the base's fingerprint, not version 4's
        assertEquals(plain.getString("system_fingerprint"), delta.getString("system_fingerprint"));
        assertNotEquals(materialized.getString("system_fingerprint"), delta.getString("system_fingerprint"));

        JsonPath field = complete("{\"model\":\"stories:1\",\"emend\":{\"adapter\":\"stories:4\"},\"prompt\":\""
                + PROMPT + "\",\"max_tokens\":" + TOKENS + ",\"temperature\":0}");
        assertEquals(text, field.getString("choices[0].text"));
        assertTrue(deltas.loaded().containsKey("stories:4"));
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks[0].data.'delta stories:4'", org.hamcrest.Matchers.startsWith("stories:4 ("));
    }

    @Test
    void deltasAndThePlainBaseShareTheBatch() throws Exception {
        Map<String, JsonPath> solo = Map.of("stories:1", greedy("stories:1"), "stories:1+stories:4",
                greedy("stories:1+stories:4"), "stories:1+stories:5", greedy("stories:1+stories:5"));
        assertTrue(moved(solo.get("stories:1+stories:4"), solo.get("stories:1+stories:5")) > 0.01,
                "two edits answer otherwise than one");
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            for (var e : solo.entrySet()) {
                all.add(CompletableFuture.runAsync(() -> assertSameAnswer(e.getValue(), greedy(e.getKey()),
                        e.getKey() + " in a shared batch")));
            }
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get();
    }

    @Test
    void aDeltaNamedByAnAliasFollowsTheAlias() throws Exception {
        JsonPath four = greedy("stories:4");
        JsonPath five = greedy("stories:5");
        assertSameAnswer(four, greedy("stories:1+stories@edits"), "the alias's delta: version 4");
        assertTrue(deltas.loaded().containsKey("stories@edits"));

        RegistryModeTest.await("the alias consumer's partitions", consumer::assigned);
        RegistryMode.Resources.registry.moveAlias("edits", 5);
        Event<AliasMoved> moved = Event.of(Event.REGISTRY, EventTypes.ALIAS_MOVED, "stories@edits",
                new AliasMoved("stories", "edits", 5, 4));
        try (KafkaProducer<String, byte[]> producer = RegistryModeTest.producer()) {
            producer.send(new ProducerRecord<>(moved.topic(), moved.key(), new EventCodec().encode(moved))).get();
        }
        RegistryModeTest.await("the delta named by the moved alias to be unloaded",
                () -> !deltas.loaded().containsKey("stories@edits"));
        assertSameAnswer(five, greedy("stories:1+stories@edits"), "the moved alias's delta: version 5");
        assertEquals("stories:5", deltas.loaded().get("stories@edits").model() + ":"
                + deltas.loaded().get("stories@edits").number().orElseThrow());
        RegistryMode.Resources.registry.moveAlias("edits", 4);
        deltas.aliasMoved("stories@edits");
    }

    @Test
    void anEditVersionOverAnotherBaseIsRefused() {
        given().contentType("application/json").body("{\"model\":\"stories:2+stories:4\",\"prompt\":\"x\"}")
                .post("/v1/completions").then().statusCode(400)
                .body("error.param", org.hamcrest.Matchers.equalTo("model"))
                .body("error.type", org.hamcrest.Matchers.equalTo("invalid_request_error"))
                .body("error.message", org.hamcrest.Matchers.containsString("is a delta over stories:1"));
        // a full model is no delta
        given().contentType("application/json").body("{\"model\":\"stories:1+stories:2\",\"prompt\":\"x\"}")
                .post("/v1/completions").then().statusCode(400)
                .body("error.message", org.hamcrest.Matchers.containsString("neither a LoRA adapter"));
        given().contentType("application/json").body("{\"model\":\"stories:1+stories:9\",\"prompt\":\"x\"}")
                .post("/v1/completions").then().statusCode(404)
                .body("error.code", org.hamcrest.Matchers.equalTo("model_not_found"));
    }
}
