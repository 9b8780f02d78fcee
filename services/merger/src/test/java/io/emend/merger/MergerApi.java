package io.emend.merger;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.JobEvent;
import io.emend.contracts.event.Topics;
import io.emend.service.stack.Tokens;
import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the merger's REST tests do against the started service and the real registry and broker: requests with a
 * token, imports, reading versions and artifacts, waiting for a job's state, reading its events off the broker.
 */
public final class MergerApi {

    public static final Duration WAIT = Duration.ofSeconds(120);

    private MergerApi() {
    }

    /** The real registry the test stack started. */
    public static String registry() {
        return ConfigProvider.getConfig().getValue("emend.merger.registry.url", String.class);
    }

    /** A request with a bearer token; YAML bodies are sent as the text they are. */
    public static RequestSpecification as(String token) {
        return given().config(RestAssured.config().encoderConfig(EncoderConfig.encoderConfig()
                        .encodeContentTypeAs("application/yaml", ContentType.TEXT)))
                .auth().oauth2(token).contentType(ContentType.JSON);
    }

    public static String unique(String prefix) {
        return prefix + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    public static void importModel(String name, Path dir) {
        given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON).body(Map.of("path", dir.toString()))
                .post(registry() + "/v1/models/{m}/imports", name).then().statusCode(201);
    }

    public static ValidatableResponse registryGet(String path) {
        return given().auth().oauth2(Tokens.reader()).get(registry() + path).then().statusCode(200);
    }

    public static byte[] artifact(String model, int number, String path) {
        return given().auth().oauth2(Tokens.reader())
                .get(registry() + "/v1/models/{m}/versions/{n}/artifacts/" + path, model, number)
                .then().statusCode(200).extract().asByteArray();
    }

    public static ValidatableResponse awaitState(String id, String state) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            var answer = as(Tokens.reader()).get("/v1/merges/{id}", id).then().statusCode(200);
            last = answer.extract().path("state");
            if (state.equals(last)) {
                return answer;
            }
            if (List.of("succeeded", "failed", "cancelled").contains(last)) {
                break;
            }
            sleep();
        }
        throw new AssertionError("job " + id + " is " + last + ", expected " + state + ": "
                + as(Tokens.reader()).get("/v1/merges/{id}", id).asString());
    }

    /** The job's events on emend.jobs, read from the start of the topic until one of type {@code last}. */
    public static List<Event<JobEvent>> jobEvents(String jobId, String last) {
        Properties settings = new Properties();
        settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                ConfigProvider.getConfig().getValue("emend.merger.events.bootstrap-servers", String.class));
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        EventCodec codec = new EventCodec();
        List<Event<JobEvent>> mine = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.JOBS));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    Event<JobEvent> event = codec.decode(record.value(), JobEvent.class);
                    if (event.data().jobId().equals(jobId)) {
                        assertEquals(event.data().model(), record.key());
                        mine.add(event);
                        if (event.type().equals(last)) {
                            return mine;
                        }
                    }
                }
            }
        }
        throw new AssertionError("no " + last + " event for job " + jobId + " on " + Topics.JOBS + "; saw " + mine);
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
