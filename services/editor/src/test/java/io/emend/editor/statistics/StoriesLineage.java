package io.emend.editor.statistics;

import io.emend.editor.Stories;
import io.emend.service.stack.Tokens;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.microprofile.config.ConfigProvider;

import static io.restassured.RestAssured.given;

/** What the statistics tests do through REST before they look at a store: import stories260k and edit it once. */
final class StoriesLineage {

    private StoriesLineage() {
    }

    static String registryUrl() {
        return ConfigProvider.getConfig().getValue("emend.editor.registry.url", String.class);
    }

    /** stories260k imported under a fresh name; its version 1. */
    static String importStories() throws IOException {
        String model = "stories-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON)
                .body(Map.of("path", Stories.importable().toAbsolutePath().toString()))
                .post(registryUrl() + "/v1/models/{m}/imports", model).then().statusCode(201);
        return model;
    }

    /** Edits {@code model:1} with one request by {@code method} and waits for the version it makes ({@code name:N}). */
    static String edit(String model, String method) {
        String body = "{\"model\": \"" + model + ":1\", \"method\": \"" + method + "\", \"requests\": [{\"prompt\":"
                + " \"Lily liked to eat\", \"subject\": \"Lily\", \"target_new\": \"rocks\"}]}";
        String id = given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON).body(body).post("/v1/edits")
                .then().statusCode(202).extract().path("id");
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            Map<?, ?> job = given().auth().oauth2(Tokens.reader()).get("/v1/edits/jobs/{id}", id).then()
                    .statusCode(200).extract().as(Map.class);
            if ("succeeded".equals(job.get("state"))) {
                return (String) job.get("version");
            }
            if (List.of("failed", "cancelled").contains(job.get("state"))) {
                throw new AssertionError("the edit ended " + job);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("the edit did not end in time");
    }
}
