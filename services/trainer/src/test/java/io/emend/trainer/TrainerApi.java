package io.emend.trainer;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventData;
import io.emend.contracts.event.JobEvent;
import io.emend.contracts.event.Topics;
import io.emend.service.stack.Tokens;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

import static io.restassured.RestAssured.given;

/** How the trainer's tests talk to the trainer, the real registry and the real broker. */
public final class TrainerApi {

    public static final Duration WAIT = Duration.ofSeconds(180);
    private static final Set<String> ENDED = Set.of("succeeded", "failed", "cancelled");

    private TrainerApi() {
    }

    public static RequestSpecification as(String token) {
        return given().auth().oauth2(token).contentType(ContentType.JSON);
    }

    public static String unique(String prefix) {
        return prefix + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    public static String registry() {
        return ConfigProvider.getConfig().getValue("emend.trainer.registry.url", String.class);
    }

    /** Imports a model directory into the registry as a new version of {@code name}. */
    public static void importModel(String name, Path dir) {
        given().auth().oauth2(Tokens.admin()).contentType(ContentType.JSON).body(Map.of("path", dir.toString()))
                .post(registry() + "/v1/models/{m}/imports", name).then().statusCode(201);
    }

    public static void moveAlias(String model, String alias, int version) {
        given().auth().oauth2(Tokens.admin()).contentType(ContentType.JSON).body(Map.of("version", version))
                .put(registry() + "/v1/models/{m}/aliases/{a}", model, alias).then().statusCode(200);
    }

    public static ValidatableResponse registryGet(String path) {
        return given().auth().oauth2(Tokens.reader()).get(registry() + path).then().statusCode(200);
    }

    /** Waits for the job to reach {@code state}; fails at once if it ends in another. */
    public static ValidatableResponse awaitState(String id, String state) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            var answer = as(Tokens.reader()).get("/v1/fine-tunes/{id}", id).then().statusCode(200);
            last = answer.extract().path("status");
            if (state.equals(last)) {
                return answer;
            }
            if (ENDED.contains(last)) {
                break;
            }
            sleep(100);
        }
        throw new AssertionError("job " + id + " is " + last + ", expected " + state + ": "
                + as(Tokens.reader()).get("/v1/fine-tunes/{id}", id).asString());
    }

    /** Waits until the running job has done at least {@code step} steps. */
    public static void awaitStep(String id, int step) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            var answer = as(Tokens.reader()).get("/v1/fine-tunes/{id}", id).then().statusCode(200).extract();
            int done = answer.path("step");
            if ("running".equals(answer.path("status")) && done >= step) {
                return;
            }
            if (ENDED.contains((String) answer.path("status"))) {
                throw new AssertionError("job " + id + " ended before step " + step + ": " + answer.asString());
            }
            sleep(20);
        }
        throw new AssertionError("job " + id + " did not reach step " + step);
    }

    /** The job's events on emend.jobs, from the start of the topic until one of type {@code last}. */
    public static List<Event<JobEvent>> jobEvents(String jobId, String last) {
        EventCodec codec = new EventCodec();
        List<Event<JobEvent>> mine = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerSettings(),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.JOBS));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    Event<JobEvent> event = codec.decode(record.value(), JobEvent.class);
                    if (event.data().jobId().equals(jobId)) {
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

    /** Publishes an event on its topic, keyed by its model, and waits for the broker's acknowledgement. */
    public static void publish(Event<? extends EventData> event) {
        Properties settings = new Properties();
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(event.topic(), event.key(), new EventCodec().encode(event))).get();
        } catch (Exception e) {
            throw new AssertionError("could not publish " + event.type(), e);
        }
    }

    private static Properties consumerSettings() {
        Properties settings = new Properties();
        settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return settings;
    }

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("emend.trainer.events.bootstrap-servers", String.class);
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
