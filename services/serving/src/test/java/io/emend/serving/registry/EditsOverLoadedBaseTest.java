package io.emend.serving.registry;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.serving.Fixtures;
import io.emend.serving.metrics.PrometheusScrapeTest;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelVersion;
import io.emend.serving.swap.AliasMovedConsumer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * With {@code edits-over-loaded-base} on, an alias that points at (or moves to) an edit version whose edit base is
 * loaded is served as that base plus the edit's factors: no second model is loaded, the answers are the edit
 * version's (its fingerprint, its materialized weights' greedy text and log-probabilities), and an alias move between
 * edit versions is a switch of factors.
 */
@QuarkusTest
@TestProfile(EditsOverLoadedBase.class)
class EditsOverLoadedBaseTest {

    static final String PROMPT = EditDeltaRequestTest.PROMPT;
    static final int TOKENS = EditDeltaRequestTest.TOKENS;

    @Inject
    ModelCatalog models;

    @Inject
    AliasMovedConsumer consumer;

    private static JsonPath greedy(String model) {
        return given().contentType("application/json").body("{\"model\":\"" + model + "\",\"prompt\":\"" + PROMPT
                + "\",\"max_tokens\":" + TOKENS + ",\"temperature\":0,\"logprobs\":1}").post("/v1/completions")
                .then().statusCode(200).extract().jsonPath();
    }

    private static ModelVersion version(int number) {
        return new ModelVersion("stories", Optional.of(number),
                ArtifactCache.digest(RegistryMode.Resources.registry.manifest(number)));
    }

    @Test
    void anAliasOnAnEditVersionIsServedAsItsLoadedBasePlusFactors() throws Exception {
        RegistryModeTest.await("readiness", () -> given().get("/q/health/ready").statusCode() == 200);
        var base = models.current("stories@production").orElseThrow();
        assertEquals(Optional.of(1), base.version().number());

        int[] prompt = Fixtures.encode(Fixtures.stories(), PROMPT);
        JsonPath four = greedy("stories@edits");
        assertSame(base, models.current("stories@edits").orElseThrow(), "no second model: the base runs the edit");
        assertEquals(version(4).fingerprint(), four.getString("system_fingerprint"));
        assertEquals(Fixtures.greedy(RegistryMode.Resources.editDir(4), prompt, TOKENS, null),
                four.getString("choices[0].text"));
        given().get("/q/health/ready").then().body("checks[0].data.'stories@edits'",
                org.hamcrest.Matchers.containsString("as factors over stories:1"));

        RegistryModeTest.await("the alias consumer's partitions", consumer::assigned);
        double swaps = PrometheusScrapeTest.sample(PrometheusScrapeTest.scrape(), "emend_serving_swaps_total", "");
        RegistryMode.Resources.registry.moveAlias("edits", 5);
        Event<AliasMoved> moved = Event.of(Event.REGISTRY, EventTypes.ALIAS_MOVED, "stories@edits",
                new AliasMoved("stories", "edits", 5, 4));
        try (KafkaProducer<String, byte[]> producer = RegistryModeTest.producer()) {
            producer.send(new ProducerRecord<>(moved.topic(), moved.key(), new EventCodec().encode(moved))).get();
        }
        RegistryModeTest.await("the switch to version 5", () -> models.versions().get("stories@edits").version()
                .number().equals(Optional.of(5)));
        assertSame(base, models.current("stories@edits").orElseThrow());
        assertEquals(swaps + 1, PrometheusScrapeTest.sample(PrometheusScrapeTest.scrape(), "emend_serving_swaps_total",
                ""), 1e-9, "Prometheus counts the swap");
        JsonPath five = greedy("stories@edits");
        assertEquals(version(5).fingerprint(), five.getString("system_fingerprint"));
        assertEquals(Fixtures.greedy(RegistryMode.Resources.editDir(5), prompt, TOKENS, null),
                five.getString("choices[0].text"));
        double change = 0;
        for (int i = 0; i < TOKENS; i++) {
            change = Math.max(change, Math.abs(five.getFloat("choices[0].logprobs.token_logprobs[" + i + "]")
                    - four.getFloat("choices[0].logprobs.token_logprobs[" + i + "]")));
        }
        assertTrue(change > 0.01, "the factors switched: the log-probabilities moved by " + change);

        // named by exact reference, the edit version is served over the same loaded base
        assertEquals(five.getString("choices[0].text"), greedy("stories:5").getString("choices[0].text"));
        assertSame(base, models.current("stories:5").orElseThrow());
        RegistryMode.Resources.registry.moveAlias("edits", 4);
    }
}
