package io.emend.serving.registry;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.serving.Fixtures;
import io.emend.serving.metrics.ServingMetrics;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelVersion;
import io.emend.serving.swap.AliasMovedConsumer;
import io.emend.serving.swap.SwapController;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Registry mode end to end inside serving: the default alias is resolved over REST, its files fetched by digest,
 * verified and cached; an {@code alias.moved} event on a real broker swaps the alias under streaming load with no
 * failed request and no mixed response; a redelivered event is ignored; a version whose bytes do not match its
 * manifest is refused and the alias stays where it was.
 */
@QuarkusTest
@TestProfile(RegistryMode.class)
class RegistryModeTest {

    static final String ALIAS = "stories@production";
    static final String PROMPT = "Once upon a time, there was a little dog";
    static final int TOKENS = 48;

    @TestHTTPResource("/v1")
    URL base;

    @Inject
    ModelCatalog models;

    @Inject
    AliasMovedConsumer consumer;

    @Inject
    SwapController swaps;

    @Inject
    ServingMetrics metrics;

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    private static Event<AliasMoved> moved(int to, int from) {
        return Event.of(Event.REGISTRY, EventTypes.ALIAS_MOVED, ALIAS, new AliasMoved("stories", "production", to, from));
    }

    @Test
    void aliasMovesSwapUnderLoad() throws Exception {
        await("readiness", () -> given().get("/q/health/ready").statusCode() == 200);
        given().get("/q/health/ready").then().body("checks[0].data.default", org.hamcrest.Matchers.equalTo(ALIAS));
        ModelVersion v1 = models.current(ALIAS).orElseThrow().version();
        assertEquals(Optional.of(1), v1.number());
        assertEquals(ArtifactCache.digest(RegistryMode.Resources.registry.manifest(1)), v1.digest());

        int[] prompt = Fixtures.encode(Fixtures.stories(), PROMPT);
        String text1 = Fixtures.greedy(Fixtures.stories(), prompt, TOKENS, null);
        String text2 = Fixtures.greedy(RegistryMode.Resources.versionB, prompt, TOKENS, null);
        assertNotEquals(text1, text2);
        String fingerprint2 = new ModelVersion("stories", Optional.of(2),
                ArtifactCache.digest(RegistryMode.Resources.registry.manifest(2))).fingerprint();
        Map<String, String> expected = Map.of(v1.fingerprint(), text1, fingerprint2, text2);

        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base.toString()).apiKey("x").maxRetries(0).build();
        KafkaProducer<String, byte[]> producer = producer();
        EventCodec codec = new EventCodec();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> byVersion = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        try {
            await("the alias consumer's partitions", consumer::assigned);
            assertEquals(text1, client.completions().create(params()).choices().getFirst().text());
            double swapsBefore = metrics.swaps();

            Thread[] streams = new Thread[3];
            for (int s = 0; s < streams.length; s++) {
                streams[s] = Thread.ofPlatform().start(() -> {
                    while (running.get()) {
                        try (StreamResponse<Completion> stream = client.completions().createStreaming(params())) {
                            Set<String> fingerprints = new HashSet<>();
                            StringBuilder text = new StringBuilder();
                            stream.stream().forEach(chunk -> {
                                fingerprints.add(chunk.systemFingerprint().orElseThrow());
                                chunk.choices().forEach(c -> text.append(c.text()));
                            });
                            assertEquals(1, fingerprints.size(), "one response, one version");
                            String f = fingerprints.iterator().next();
                            assertEquals(expected.get(f), text.toString());
                            byVersion.computeIfAbsent(f, k -> new AtomicInteger()).incrementAndGet();
                        } catch (Throwable t) {
                            failures.add(t);
                        }
                    }
                });
            }
            await("responses from version 1", () -> byVersion.containsKey(v1.fingerprint()));

            // the registry moves the alias and publishes the move, as its outbox relay does
            RegistryMode.Resources.registry.moveAlias("production", 2);
            Event<AliasMoved> toTwo = moved(2, 1);
            producer.send(new ProducerRecord<>(toTwo.topic(), toTwo.key(), codec.encode(toTwo))).get();
            await("the swap to version 2", () -> models.current(ALIAS).orElseThrow().version().number().equals(Optional.of(2)));
            await("responses from version 2", () -> byVersion.containsKey(fingerprint2));
            running.set(false);
            for (Thread t : streams) {
                t.join();
            }
            assertEquals(List.of(), failures);
            assertEquals(swapsBefore + 1, metrics.swaps());

            // a redelivery carries the same id and is ignored, whatever it says
            Event<AliasMoved> redelivered = new Event<>(toTwo.id(), toTwo.source(), toTwo.type(), toTwo.subject(),
                    toTwo.time(), new AliasMoved("stories", "production", 1, 2));
            assertTrue(swaps.onAliasMoved(redelivered).get().isEmpty());
            assertEquals(Optional.of(2), models.current(ALIAS).orElseThrow().version().number());

            // a version whose bytes are not what its manifest says is refused; the alias stays on version 2
            Event<AliasMoved> toCorrupt = moved(3, 2);
            producer.send(new ProducerRecord<>(toCorrupt.topic(), toCorrupt.key(), codec.encode(toCorrupt))).get();
            Path cache = Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
                    .getValue("emend.serving.registry.cache-dir", String.class));
            String fakeSha = RegistryMode.Resources.registry.manifest(3).stream()
                    .filter(e -> e.path().equals("model.safetensors")).findFirst().orElseThrow().sha256();
            Thread.sleep(2000);
            assertEquals(Optional.of(2), models.current(ALIAS).orElseThrow().version().number());
            assertFalse(Files.exists(cache.resolve("blobs").resolve(fakeSha)), "nothing unverified is kept");
            assertEquals(swapsBefore + 1, metrics.swaps());
            assertEquals(text2, client.completions().create(params()).choices().getFirst().text());
        } finally {
            running.set(false);
            producer.close();
            client.close();
        }
    }

    @Test
    void exactVersionsAndUnknownReferences() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base.toString()).apiKey("x").maxRetries(0).build();
        try {
            Completion c = client.completions().create(params().toBuilder().model("stories:1").build());
            assertEquals("stories:1", c.model());
            assertEquals(Fixtures.greedy(Fixtures.stories(), Fixtures.encode(Fixtures.stories(), PROMPT), TOKENS, null),
                    c.choices().getFirst().text());
        } finally {
            client.close();
        }
        given().contentType("application/json").body("{\"model\":\"stories:9\",\"prompt\":\"x\"}")
                .post("/v1/completions").then().statusCode(404)
                .body("error.code", org.hamcrest.Matchers.equalTo("model_not_found"));
    }

    private static CompletionCreateParams params() {
        return CompletionCreateParams.builder().model(ALIAS).prompt(PROMPT).maxTokens(TOKENS).temperature(0.0).build();
    }

    static KafkaProducer<String, byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, RegistryMode.Resources.broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }
}
