package io.emend.service.stack;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.JobEvent;
import io.emend.contracts.event.Topics;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;

import static io.restassured.RestAssured.given;

/**
 * What every job service's tests do against the started service and the {@link TestStack}'s registry and broker:
 * import into the registry and read from it, wait for a job to reach a state, read a job's events off
 * {@code emend.jobs}. A service's test helper holds one, e.g.
 * {@code new JobServiceApi("merger", "/v1/merges/{id}", "state", Duration.ofSeconds(120))}.
 */
public final class JobServiceApi {

    /** The states a job does not leave. */
    public static final Set<String> ENDED = Set.of("succeeded", "failed", "cancelled");

    private final String service;
    private final String jobPath;
    private final String stateField;
    private final Duration wait;

    /**
     * @param service    the middle of the service's configuration keys {@code emend.<service>.*}
     * @param jobPath    the job resource, with an {@code {id}} parameter
     * @param stateField the field of the job's JSON that holds its state
     * @param wait       how long to wait for a state or an event
     */
    public JobServiceApi(String service, String jobPath, String stateField, Duration wait) {
        this.service = service;
        this.jobPath = jobPath;
        this.stateField = stateField;
        this.wait = wait;
    }

    /** A name no other test of this run uses. */
    public static String unique(String prefix) {
        return prefix + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    /** The real registry the test stack started. */
    public String registry() {
        return ConfigProvider.getConfig().getValue("emend." + service + ".registry.url", String.class);
    }

    /** The real broker the test stack started. */
    public String bootstrapServers() {
        return ConfigProvider.getConfig().getValue("emend." + service + ".events.bootstrap-servers", String.class);
    }

    /** Imports a model directory into the registry as a new version of {@code name}. */
    public void importModel(String name, Path dir) {
        given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON).body(Map.of("path", dir.toString()))
                .post(registry() + "/v1/models/{m}/imports", name).then().statusCode(201);
    }

    /** A registry GET as a reader, which must answer 200. */
    public ValidatableResponse registryGet(String path) {
        return given().auth().oauth2(Tokens.reader()).get(registry() + path).then().statusCode(200);
    }

    /** Waits for the job to reach {@code state}; fails at once if it ends in another. */
    public ValidatableResponse awaitState(String id, String state) {
        long deadline = System.nanoTime() + wait.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            var answer = given().auth().oauth2(Tokens.reader()).get(jobPath, id).then().statusCode(200);
            last = answer.extract().path(stateField);
            if (state.equals(last)) {
                return answer;
            }
            if (ENDED.contains(last)) {
                break;
            }
            sleep(100);
        }
        throw new AssertionError("job " + id + " is " + last + ", expected " + state + ": "
                + given().auth().oauth2(Tokens.reader()).get(jobPath, id).asString());
    }

    /**
     * The job's events on emend.jobs, read from the start of the topic until one of type {@code last}; each must be
     * keyed by its model, so one model's events stay ordered.
     */
    public List<Event<JobEvent>> jobEvents(String jobId, String last) {
        EventCodec codec = new EventCodec();
        List<Event<JobEvent>> mine = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerSettings(),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.JOBS));
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    Event<JobEvent> event = codec.decode(record.value(), JobEvent.class);
                    if (event.data().jobId().equals(jobId)) {
                        if (!event.data().model().equals(record.key())) {
                            throw new AssertionError("event " + event.id() + " of model " + event.data().model()
                                    + " is keyed " + record.key());
                        }
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

    /** A consumer of this run's broker in a group of its own, reading from the start of each topic. */
    private Properties consumerSettings() {
        Properties settings = new Properties();
        settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return settings;
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
