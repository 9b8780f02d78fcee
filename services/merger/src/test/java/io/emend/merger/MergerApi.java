package io.emend.merger;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.JobEvent;
import io.emend.service.stack.JobServiceApi;
import io.emend.service.stack.Tokens;
import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.restassured.RestAssured.given;

/**
 * What the merger's REST tests do against the started service and the real registry and broker: requests with a
 * token, imports, reading versions and artifacts, waiting for a job's state, reading its events off the broker. What
 * every job service's tests share is the kit's {@link JobServiceApi}.
 */
public final class MergerApi {

    public static final Duration WAIT = Duration.ofSeconds(120);
    private static final JobServiceApi MERGES = new JobServiceApi("merger", "/v1/merges/{id}", "state", WAIT);

    private MergerApi() {
    }

    /** The real registry the test stack started. */
    public static String registry() {
        return MERGES.registry();
    }

    /** A request with a bearer token; YAML bodies are sent as the text they are. */
    public static RequestSpecification as(String token) {
        return given().config(RestAssured.config().encoderConfig(EncoderConfig.encoderConfig()
                        .encodeContentTypeAs("application/yaml", ContentType.TEXT)))
                .auth().oauth2(token).contentType(ContentType.JSON);
    }

    public static String unique(String prefix) {
        return JobServiceApi.unique(prefix);
    }

    public static void importModel(String name, Path dir) {
        MERGES.importModel(name, dir);
    }

    public static ValidatableResponse registryGet(String path) {
        return MERGES.registryGet(path);
    }

    public static byte[] artifact(String model, int number, String path) {
        return given().auth().oauth2(Tokens.reader())
                .get(registry() + "/v1/models/{m}/versions/{n}/artifacts/" + path, model, number)
                .then().statusCode(200).extract().asByteArray();
    }

    public static ValidatableResponse awaitState(String id, String state) {
        return MERGES.awaitState(id, state);
    }

    /** The job's events on emend.jobs, read from the start of the topic until one of type {@code last}. */
    public static List<Event<JobEvent>> jobEvents(String jobId, String last) {
        return MERGES.jobEvents(jobId, last);
    }
}
