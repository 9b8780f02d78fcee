package io.emend.editor;

import io.emend.service.stack.JobServiceApi;
import io.emend.service.stack.Tokens;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.time.Duration;

import static io.restassured.RestAssured.given;

/**
 * How the editor's tests talk to the editor and to the real registry and broker: the kit's {@link JobServiceApi}
 * bound to edit jobs, plus what only the editor's tests do (import stories260k, edit it once, fetch an artifact).
 */
public final class EditorApi {

    /** How long a test waits for a job or an event: an edit of stories260k with its measurements takes seconds. */
    public static final Duration WAIT = Duration.ofSeconds(180);
    /** Edit jobs. */
    public static final JobServiceApi JOBS = new JobServiceApi("editor", "/v1/edits/jobs/{id}", "state", WAIT);

    private EditorApi() {
    }

    /** A JSON request with a bearer token. */
    public static RequestSpecification as(String token) {
        return given().auth().oauth2(token).contentType(ContentType.JSON);
    }

    /** stories260k imported under a fresh name; its version 1. */
    public static String importStories() throws IOException {
        String model = JobServiceApi.unique("stories");
        JOBS.importModel(model, Stories.importable());
        return model;
    }

    /** Edits {@code model:1} with Lily's request by {@code method}; waits for the version it makes, {@code name:N}. */
    public static String edit(String model, String method) {
        String body = "{\"model\": \"" + model + ":1\", \"method\": \"" + method + "\", \"requests\": [{\"prompt\":"
                + " \"Lily liked to eat\", \"subject\": \"Lily\", \"target_new\": \"rocks\"}]}";
        String id = as(Tokens.writer()).body(body).post("/v1/edits").then().statusCode(202).extract().path("id");
        return JOBS.awaitState(id, "succeeded").extract().path("version");
    }

    /** One file of a registry version, as the registry serves it to a reader. */
    public static byte[] artifact(String model, int number, String path) {
        return given().auth().oauth2(Tokens.reader())
                .get(JOBS.registry() + "/v1/models/{m}/versions/{n}/artifacts/" + path, model, number)
                .then().statusCode(200).extract().asByteArray();
    }
}
