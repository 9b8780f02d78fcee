package io.emend.trainer;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventData;
import io.emend.contracts.event.JobEvent;
import io.emend.service.stack.JobServiceApi;
import io.emend.service.stack.Tokens;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import static io.restassured.RestAssured.given;

/**
 * How the trainer's tests talk to the trainer, the real registry and the real broker; what every job service's tests
 * share is the kit's {@link JobServiceApi}.
 */
public final class TrainerApi {

    public static final Duration WAIT = Duration.ofSeconds(180);
    private static final JobServiceApi FINE_TUNES = new JobServiceApi("trainer", "/v1/fine-tunes/{id}", "status",
            WAIT);

    private TrainerApi() {
    }

    public static RequestSpecification as(String token) {
        return given().auth().oauth2(token).contentType(ContentType.JSON);
    }

    public static String unique(String prefix) {
        return JobServiceApi.unique(prefix);
    }

    public static String registry() {
        return FINE_TUNES.registry();
    }

    /** Imports a model directory into the registry as a new version of {@code name}. */
    public static void importModel(String name, Path dir) {
        FINE_TUNES.importModel(name, dir);
    }

    public static void moveAlias(String model, String alias, int version) {
        given().auth().oauth2(Tokens.admin()).contentType(ContentType.JSON).body(Map.of("version", version))
                .put(registry() + "/v1/models/{m}/aliases/{a}", model, alias).then().statusCode(200);
    }

    public static ValidatableResponse registryGet(String path) {
        return FINE_TUNES.registryGet(path);
    }

    /** Waits for the job to reach {@code state}; fails at once if it ends in another. */
    public static ValidatableResponse awaitState(String id, String state) {
        return FINE_TUNES.awaitState(id, state);
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
            if (JobServiceApi.ENDED.contains((String) answer.path("status"))) {
                throw new AssertionError("job " + id + " ended before step " + step + ": " + answer.asString());
            }
            sleep(20);
        }
        throw new AssertionError("job " + id + " did not reach step " + step);
    }

    /** The job's events on emend.jobs, from the start of the topic until one of type {@code last}. */
    public static List<Event<JobEvent>> jobEvents(String jobId, String last) {
        return FINE_TUNES.jobEvents(jobId, last);
    }

    /** Publishes an event on its topic, keyed by its model, and waits for the broker's acknowledgement. */
    public static void publish(Event<? extends EventData> event) {
        Properties settings = new Properties();
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, FINE_TUNES.bootstrapServers());
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(event.topic(), event.key(), new EventCodec().encode(event))).get();
        } catch (Exception e) {
            throw new AssertionError("could not publish " + event.type(), e);
        }
    }

    public static void sleep(long millis) {
        JobServiceApi.sleep(millis);
    }
}
